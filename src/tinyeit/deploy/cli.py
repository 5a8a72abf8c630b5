"""`tinyeit profile`: flash (or emulate) one variant on one board and write its profile.json."""
from __future__ import annotations

import json


def _profile(args) -> int:
    from tinyeit.deploy.run import profile_pair
    from tinyeit.errors import TinyEitError

    if args.board_config is not None:
        try:
            board = json.loads(args.board_config)
        except json.JSONDecodeError as exc:
            raise TinyEitError(f"--board-config: not valid JSON: {exc}") from None
        config = {"boards": {args.board: board}}
    else:
        from tinyeit import config as study_config

        config = study_config.load(args.config)
    record = profile_pair(config, args.board, args.variant, args.build, args.frames,
                          args.metrics, args.out, engine=args.engine,
                          tflite=args.tflite)
    shown = record.get("instructions_per_inference")
    print(f"{args.board} {args.engine} {args.variant}: {record['status']}"
          + (f", {shown} instructions/inference" if shown is not None else "")
          + (f", {record['cycles_per_inference']} cycles/inference"
             if record.get("cycles_per_inference") is not None else "")
          + (f", {record['latency_ms']} ms" if record.get("latency_ms") is not None else "")
          + (f" ({record['error']})" if record.get("error") else ""))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "profile", help="flash/emulate one variant on one board; write its profile.json",
        description="Runs the firmware of results/firmware/<board>/<variant> on the board's "
                    "transport (emulator, serial or ssh) and writes one `deployments` entry.")
    p.add_argument("--board", required=True, help="board key in config.yaml")
    p.add_argument("--variant", required=True)
    p.add_argument("--engine", choices=("aot", "tflm"), default="aot",
                   help="which engine's firmware --build is (default: %(default)s)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--config", default="config.yaml", help="study config (default: %(default)s)")
    where.add_argument("--board-config", help="the board's settings as JSON (what rules pass)")
    p.add_argument("--build", required=True, help="the firmware's build.json")
    p.add_argument("--frames", required=True, help="the variant's frames.npz")
    p.add_argument("--metrics", required=True, help="the variant's metrics.json (macs)")
    p.add_argument("--tflite", help="the variant's model.tflite: a tflm firmware is also compared "
                   "with the tflite-micro interpreter's outputs")
    p.add_argument("--out", required=True, help="profile.json to write")
    p.set_defaults(func=_profile)
