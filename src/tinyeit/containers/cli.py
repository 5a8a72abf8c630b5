"""`tinyeit image NAME --stamp FILE`: build a toolchain image (if its tag is missing) and record it."""
from __future__ import annotations

import json


def _image(args) -> int:
    from tinyeit.containers.images import write_stamp
    record = write_stamp(args.name, args.stamp)
    print(json.dumps(record, sort_keys=True))
    return 0


def register(subparsers) -> None:
    from tinyeit.containers.images import TOOLCHAINS
    p = subparsers.add_parser("image", help="build a toolchain image and write its stamp file",
                              description="Builds docker/<name>/Dockerfile as tinyeit/<name>:<sha12> when that tag "
                              "is missing, and writes {tag, image_id, dockerfile_sha256, available, reason}.")
    p.add_argument("name", choices=TOOLCHAINS)
    p.add_argument("--stamp", required=True, help="results/images/<name>.json")
    p.set_defaults(func=_image)
