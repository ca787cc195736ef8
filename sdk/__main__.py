"""The ``socialgate`` command line: ``socialgate sandbox serve`` and friends."""

from __future__ import annotations

import sys

from . import __version__

USAGE = """usage: socialgate <command> [options]

commands:
  sandbox serve   run the local emulator of the networks' APIs (socialgate sandbox serve --help)
  --version       print the version
"""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    if args[0] == "--version":
        print(f"socialgate {__version__}")
        return 0
    if args[0] == "sandbox":
        from .sandbox.cli import main as sandbox_main

        return sandbox_main(args[1:])
    print(f"socialgate: unknown command {args[0]!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
