"""Per-board firmware around the generated model: one build per (board, variant), in Docker."""
from tinyeit.firmware.build import BUILD_KEYS, FAMILY_IMAGE, FirmwareBuildError, build_firmware

__all__ = ["BUILD_KEYS", "FAMILY_IMAGE", "FirmwareBuildError", "build_firmware"]
