"""Toolchain containers: the Docker engine, the toolchain images, and the runner that builds in them.

Every firmware build goes through `run`, so the same call works in a container (the normal case)
or, where no engine can be had, on the host (`TINYEIT_RUNNER=local`).
"""
from tinyeit.containers.engine import EngineUnavailable, engine_available
from tinyeit.containers.images import (TOOLCHAINS, ImageUnavailable, dockerfile_path, ensure_image,
                                       image_tag, write_stamp)
from tinyeit.containers.runner import ToolUnavailable, run, runner_kind, toolchain_identity

__all__ = ["EngineUnavailable", "ImageUnavailable", "ToolUnavailable", "TOOLCHAINS", "dockerfile_path",
           "engine_available", "ensure_image", "image_tag", "run", "runner_kind", "toolchain_identity",
           "write_stamp"]
