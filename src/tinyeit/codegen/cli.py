"""`tinyeit codegen` and `tinyeit codegen-run` subcommands."""
from __future__ import annotations

import argparse
import json


def _codegen(args: argparse.Namespace) -> int:
    from tinyeit.codegen import generate  # noqa: PLC0415

    info = generate(args.model, args.out_dir, flavor=args.flavor)
    print(json.dumps(info, sort_keys=True))
    return 0


def _codegen_run(args: argparse.Namespace) -> int:
    import numpy as np  # noqa: PLC0415

    from tinyeit.codegen import run_host  # noqa: PLC0415

    from tinyeit.errors import TinyEitError  # noqa: PLC0415

    try:
        inputs = np.load(args.inputs, allow_pickle=False)
    except FileNotFoundError:
        raise TinyEitError(f"{args.inputs}: input rows (.npy) not found") from None
    except (OSError, ValueError, EOFError) as exc:
        raise TinyEitError(f"{args.inputs}: not a readable .npy of input rows: {exc}") from None
    if not isinstance(inputs, np.ndarray):
        raise TinyEitError(f"{args.inputs}: an .npz archive; expected one .npy array of input rows")
    if args.board:
        from tinyeit import config as study_config  # noqa: PLC0415
        from tinyeit.deploy.codegen_run import run_board  # noqa: PLC0415

        boards = study_config.load(args.config).get("boards", {})
        if args.board not in boards:
            raise TinyEitError(f"{args.config}: no board {args.board!r} under boards "
                               f"(configured: {', '.join(sorted(boards))})")
        out = run_board(args.model, inputs, args.board, boards[args.board], flavor=args.flavor)
    else:
        out = run_host(args.model, inputs, flavor=args.flavor)
    from tinyeit.atomic import replacing  # noqa: PLC0415

    with replacing(args.outputs, suffix=".npy") as tmp, open(tmp, "wb") as fh:
        np.save(fh, out)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("codegen", help="generate C99 (model.h, model.c) from a .tflite")
    p.add_argument("model", help="the .tflite file")
    p.add_argument("out_dir", help="folder for model.h, model.c and the kernel sources")
    p.add_argument("--flavor", choices=("litert", "tflm"), default="litert",
                   help="whose int8 rounding to equal: LiteRT reference kernels or TFLite Micro")
    p.set_defaults(func=_codegen)
    r = subparsers.add_parser("codegen-run",
                              help="generate, compile for this host (or --board: build for that "
                                   "board and run on its emulator), run on every row of IN.npy")
    r.add_argument("model", help="the .tflite file")
    r.add_argument("inputs", help="IN.npy: rows in the model's input dtype")
    r.add_argument("outputs", help="OUT.npy: the raw outputs, one row per input row")
    r.add_argument("--flavor", choices=("litert", "tflm"), default="litert")
    r.add_argument("--board", help="a board of the config (nano33ble, nicla_sense, esp32, rpi4): run the "
                                   "generated C with that board's kernels on its emulator")
    r.add_argument("--config", default="config.yaml", help="the study config naming the boards")
    r.set_defaults(func=_codegen_run)
