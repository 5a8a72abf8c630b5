"""The `tinyeit` command: each stage package contributes its own subcommands.

A stage registers through `tinyeit.<stage>.cli.register(subparsers)`; this module only wires
them, so the CLI follows the same one-direction flow as the package.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from tinyeit.errors import TinyEitError

STAGES = ("config", "data", "compress", "export", "codegen", "firmware", "containers",
          "deploy", "summary", "report")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tinyeit", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for stage in STAGES:
        try:
            module = importlib.import_module(f"tinyeit.{stage}.cli")
        except ModuleNotFoundError as exc:
            if exc.name in (f"tinyeit.{stage}", f"tinyeit.{stage}.cli"):
                continue
            raise
        module.register(sub)
    from tinyeit import verify

    verify.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except TinyEitError as exc:
        print(f"tinyeit: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
