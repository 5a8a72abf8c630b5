"""`tinyeit image NAME --stamp FILE`: build a toolchain image (if its tag is missing) and record it.
`tinyeit images NAME...`: build several up front (`make images`), no records."""
from __future__ import annotations

import json


def _image(args) -> int:
    from tinyeit.containers.images import write_stamp
    record = write_stamp(args.name, args.stamp)
    print(json.dumps(record, sort_keys=True))
    return 0


def _images(args) -> int:
    from tinyeit.containers.images import main
    return main(args.names)


def register(subparsers) -> None:
    from tinyeit.containers.images import TOOLCHAINS
    p = subparsers.add_parser("image", help="build a toolchain image and write its stamp file",
                              description="Builds docker/<name>/Dockerfile as tinyeit/<name>:<sha12> when that tag "
                              "is missing, and writes {tag, image_id, dockerfile_sha256, available, reason}.")
    p.add_argument("name", choices=TOOLCHAINS)
    p.add_argument("--stamp", required=True, help="results/images/<name>.json")
    p.set_defaults(func=_image)
    p = subparsers.add_parser("images", help="build toolchain images up front (make images)",
                              description="Builds each named image whose tag is missing. Without a Docker "
                              "engine it says so and succeeds: builds then use the host's tools.")
    p.add_argument("names", nargs="+", choices=TOOLCHAINS, metavar="NAME")
    p.set_defaults(func=_images)
