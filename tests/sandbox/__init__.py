"""Tests of socialgate.sandbox and the network emulators."""
