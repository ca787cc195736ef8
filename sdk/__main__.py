"""The ``socialgate`` command line: ``socialgate sandbox serve`` and friends."""

from __future__ import annotations

import argparse
import sys

from . import __version__


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="socialgate", description=__doc__)
    parser.add_argument("--version", action="version", version=f"socialgate {__version__}")
    parser.add_argument("command", nargs="?", choices=["sandbox"], help="what to run")
    known, rest = parser.parse_known_args(args)
    if known.command == "sandbox":
        from .sandbox.cli import serve

        return serve(rest)
    parser.print_help()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
