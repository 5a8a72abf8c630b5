"""`tinyeit firmware`: one board's firmware for one variant, recorded in build.json."""
from __future__ import annotations

import json

from tinyeit.errors import TinyEitError


def _firmware(args) -> int:
    from tinyeit.firmware.build import build_firmware
    try:
        board_cfg = json.loads(args.board_config)
    except json.JSONDecodeError as exc:
        raise TinyEitError(f"--board-config for board {args.board}: not JSON: {exc}") from None
    record = build_firmware(args.board, board_cfg, args.variant, args.codegen, args.frames, args.out,
                            n_frames=args.n_frames, image_stamp=args.image_stamp,
                            arduino_stamp=args.arduino_stamp, engine=args.engine, tflite=args.tflite,
                            esp_idf_stamp=args.esp_idf_stamp)
    extra = f" ({record['reason']})" if record.get("reason") else ""
    print(f"firmware {args.board}/{args.engine}/{args.variant}: {record['status']}{extra}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("firmware", help="build one board's firmware for one variant",
                              description="Builds the firmware in the board family's toolchain image and writes "
                              "<out>/build.json with status ok, does_not_fit or toolchain_unavailable.")
    p.add_argument("--board", required=True)
    p.add_argument("--variant", required=True)
    p.add_argument("--board-config", required=True, help="the board's config entry as JSON")
    p.add_argument("--engine", choices=("aot", "tflm"), default="aot",
                   help="aot: the generated C (--codegen); tflm: TFLite Micro around --tflite")
    p.add_argument("--codegen", help="the code generator's folder (model.h, model.c, kernels); aot")
    p.add_argument("--tflite", help="the variant's model.tflite; tflm")
    p.add_argument("--frames", required=True, help="frames.npz whose `input` frames are embedded")
    p.add_argument("--image-stamp", default=None, help="results/images/<toolchain>.json")
    p.add_argument("--arduino-stamp", default=None, help="results/images/arduino.json (Cortex-M boards)")
    p.add_argument("--esp-idf-stamp", default=None,
                   help="results/images/esp-idf.json (ESP32: the ESP-IDF project for real boards)")
    p.add_argument("--n-frames", type=int, default=8)
    p.add_argument("--out", required=True, help="results/firmware/<board>/<engine>/<variant>")
    p.set_defaults(func=_firmware)
