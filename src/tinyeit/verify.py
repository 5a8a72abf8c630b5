"""`tinyeit manifest` and `tinyeit verify`: write the results' manifest, or check results
against one without rebuilding anything (exit 1 when anything differs)."""
from __future__ import annotations

import sys

from tinyeit import manifest


def _write(args) -> int:
    path = manifest.write(args.results, args.out)
    print(f"{path}: {len(manifest.read(path))} files")
    return 0


def _verify(args) -> int:
    differences = manifest.compare(args.manifest, args.results)
    if not differences:
        print(f"{args.results}: every file in {args.manifest} is identical "
              f"({len(manifest.read(args.manifest))} files)")
        return 0
    for difference in differences:
        print(difference)
    counts = {kind: sum(d.kind == kind for d in differences) for kind in ("changed", "missing", "extra")}
    print(f"{args.results} differs from {args.manifest}: "
          + ", ".join(f"{n} {kind}" for kind, n in counts.items() if n), file=sys.stderr)
    return 1


def register(subparsers) -> None:
    p = subparsers.add_parser("manifest", help="write the sha256 manifest of the results' deterministic files")
    p.add_argument("--results", default="results", help="results folder (default: results)")
    p.add_argument("--out", default=None, help=f"manifest path (default: RESULTS/{manifest.MANIFEST_NAME})")
    p.set_defaults(func=_write)
    p = subparsers.add_parser("verify", help="compare results with a manifest; exit 1 on any difference")
    p.add_argument("manifest", help=f"a {manifest.MANIFEST_NAME} written by an earlier run")
    p.add_argument("--results", default="results", help="results folder to check (default: results)")
    p.set_defaults(func=_verify)
