"""Network adapters: one sub-package per network, found by the SDK through the
``socialgate.adapters`` entry-point group (see ``socialgate._registry``)."""
