"""The distribution: every package listed, and a built wheel that imports in a fresh venv."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"socialgate": "sdk", "socialgate.adapters": "adapters", "socialgate.gateway": "gateway"}


def _declared_packages() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(data["tool"]["setuptools"]["packages"])


def test_every_package_folder_is_declared() -> None:
    """The package-dir mapping hides sub-packages from setuptools' finder, so they are listed
    by hand; a forgotten one would be missing from wheels."""
    found = set()
    for prefix, folder in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((prefix, *rel)))
    assert found == _declared_packages()


@pytest.mark.skipif(sys.platform == "win32", reason="venv layout differs")
def test_wheel_installs_into_a_fresh_venv_and_imports(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("socialgate-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
        check=True,
        capture_output=True,
    )
    probe = (
        "import socialgate as sg, socialgate.adapters.x as x, importlib.resources as r;"
        "c = sg.Client(token_store=sg.MemoryTokenStore());"
        "a = c.account('twitter', sg.BearerToken('t'));"
        "assert a.network == 'x' and sg.Capability.POSTS_CREATE in a.capabilities;"
        "assert (r.files('socialgate') / 'py.typed').is_file();"
        "print(len(sg.__all__))"
    )
    result = subprocess.run(
        [str(python), "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) == len(__import__("socialgate").__all__)
