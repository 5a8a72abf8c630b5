"""Where a build's firmware images are, from its build.json (paths relative to its folder).

The firmware stage records what it built; the deploy stage only reads it. Missing entries fall
back to the stage's fixed file names (`firmware.elf`, `firmware` for the rpi4), so a pair can
still be profiled from a build folder laid out by hand.
"""
from __future__ import annotations

from pathlib import Path

from tinyeit.errors import TinyEitError

DEFAULT_IMAGE = {"cortex_m4f": "firmware.elf", "aarch64_linux": "firmware", "esp32": "merged.bin"}


def _resolve(build_dir: Path, value) -> Path | None:
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else build_dir / path


def _first(build: dict, *keys):
    for key in keys:
        value = build.get(key)
        if isinstance(value, dict):
            value = value.get("path")
        if value:
            return value
    images = build.get("images")
    if isinstance(images, dict):
        for key in keys:
            if images.get(key):
                return images[key]
    return None


def emulator_image(build: dict, build_json: str | Path, family: str) -> Path:
    """The file QEMU runs: the Cortex-M ELF or the rpi4's static binary."""
    build_dir = Path(build_json).parent
    value = _first(build, "elf", "binary", "image", "firmware") or DEFAULT_IMAGE.get(family)
    path = _resolve(build_dir, value)
    if path is None or not path.is_file():
        raise TinyEitError(f"{build_json}: firmware image {path} does not exist")
    return path


def arduino_upload(build: dict, build_json: str | Path) -> dict:
    """{input_file or input_dir} for arduino-cli upload: the sketch's compiled output."""
    build_dir = Path(build_json).parent
    upload = build.get("arduino") or build.get("upload") or {}
    if not isinstance(upload, dict):
        upload = {}
    if upload.get("status") not in (None, "ok"):
        raise TinyEitError(f"{build_json}: the Arduino build for upload is "
                           f"{upload['status']}: {upload.get('reason') or 'no reason given'}")
    input_file = _resolve(build_dir, upload.get("input_file") or build.get("upload_file"))
    input_dir = _resolve(build_dir, upload.get("input_dir") or build.get("sketch_build_dir"))
    if input_file is None and input_dir is None:
        raise TinyEitError(f"{build_json}: no Arduino image for upload (expected 'arduino': "
                           "{'input_file' or 'input_dir'}); the board's firmware was built for "
                           "the emulator only")
    return {"input_file": input_file, "input_dir": input_dir}


def esp32_flash_images(build: dict, build_json: str | Path) -> list[tuple[int, Path]]:
    """(offset, file) pairs for esptool write-flash; a merged image goes at 0x0.

    The firmware stage's ESP32 build holds the ESP-IDF image under `esp_idf` (its top level is
    the bare-metal ELF for the emulator); a record laid out by hand may list the images at the top.
    """
    build_dir = Path(build_json).parent
    nested = build.get("esp_idf")
    if isinstance(nested, dict):
        if nested.get("status") != "ok":
            raise TinyEitError(f"{build_json}: no ESP-IDF image to flash a real ESP32 with: the ESP-IDF "
                               f"build is {nested.get('status')}: {nested.get('reason') or 'no reason given'} "
                               "(the bare-metal ELF runs on the emulator only)")
        build = nested
    listed = build.get("flash_images")
    if listed:
        pairs = []
        for i, entry in enumerate(listed):
            try:
                offset = entry["offset"]
                offset = int(offset, 0) if isinstance(offset, str) else int(offset)
                pairs.append((offset, _resolve(build_dir, entry["path"])))
            except (KeyError, TypeError, ValueError):
                raise TinyEitError(f"{build_json}: flash_images.{i}: expected "
                                   "{'offset': int or '0x..', 'path': file}") from None
        return pairs
    merged = _first(build, "merged_bin", "merged") or DEFAULT_IMAGE["esp32"]
    return [(0x0, _resolve(build_dir, merged))]
