"""`tinyeit check-config`: validate a study configuration without running anything."""
from __future__ import annotations


def _check(args) -> int:
    from tinyeit import config
    from tinyeit.config import chains

    study = config.load(args.config)
    built = chains.model_chains(study["variants"])
    print(f"{args.config}: ok: {len(study['variants'])} variants, {len(built)} trained chains, "
          f"boards {', '.join(sorted(study['boards']))}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("check-config", help="validate a study configuration")
    p.add_argument("config", nargs="?", default="config.yaml")
    p.set_defaults(func=_check)
