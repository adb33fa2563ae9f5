"""The ``perfcore`` command: ``perfcore compare``, ``perfcore baseline save``, ... (run
``perfcore --help``). The command itself is the Rust crate's (``perfcore::cli``); this is its
entry point for ``pip install``-ed scripts and ``python -m perfcore``. ``perfcore run`` (run a
Python program with its functions profiled, ``perfcore run --help``) is the one subcommand
implemented here, in ``perfcore._run``."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ._perfcore import _cli_main


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command with ``argv`` (default: ``sys.argv[1:]``) and returns its exit code:
    0 nothing to report, 1 a regression or an exceeded budget, 2 bad usage or bad input."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["run"]:
        # Implemented in Python: it runs a Python program (see perfcore._run).
        from ._run import run

        return run(args[1:])
    code = _cli_main(["perfcore", *args])
    if args in ([], ["-h"], ["--help"]):
        print("\nAlso: perfcore run [--include PACKAGE]... script.py | -m module [args...]: run a")
        print("Python program with its functions profiled (perfcore run --help).")
    return code


if __name__ == "__main__":
    sys.exit(main())
