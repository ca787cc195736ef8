"""The examples and the demo run for real against a sandbox server process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
sys.path.insert(0, str(EXAMPLES))

from demo import sandbox_server  # noqa: E402


def run(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    with sandbox_server(time_scale=300) as root:
        yield root


def test_read_timeline(sandbox: str) -> None:
    out = run("read_timeline.py", "--sandbox", sandbox)
    assert "@sandbox_demo" in out and "likes" in out and "budget tweets.timeline" in out


def test_publish_with_media(sandbox: str) -> None:
    out = run("publish_with_media.py", "--sandbox", sandbox)
    assert "alt text 'A teal square'" in out and "published" in out and "deleted" in out


def test_oauth_connect(sandbox: str, tmp_path: Path) -> None:
    store = tmp_path / "tokens.sqlite3"
    out = run("oauth_connect.py", "--sandbox", sandbox, "--store", str(store))
    assert "connected as @" in out and "offline.access" in out
    assert store.exists() and b"sandbox" not in store.read_bytes().lower()


def test_demo_paces_past_a_window_without_429s() -> None:
    out = run("demo.py")
    assert "published" in out and "then deleted it" in out
    assert "paced in" in out
    assert "0 answered 429" in out
