"""Per-board firmware around the generated model: one build per (board, variant), in Docker."""
from tinyeit.firmware.build import FAMILY_IMAGE, FirmwareBuildError, build_firmware

__all__ = ["FAMILY_IMAGE", "FirmwareBuildError", "build_firmware"]
