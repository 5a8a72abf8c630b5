"""Put a firmware on a real board: arduino-cli (pyduinocli), esptool, or scp + ssh for the rpi4.

Each tool's own words come back in the error, with board, port and variant, so a failed upload
says what to fix. Nothing here runs under the emulator transport.
"""
from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

from tinyeit.deploy.boards import Board
from tinyeit.errors import TinyEitError

UPLOAD_TIMEOUT_S = 300
SSH_STEP_TIMEOUT_S = 120   # creating the remote folder, copying the firmware
REMOTE_DIR = "/tmp/tinyeit"


class FlashError(TinyEitError):
    """Uploading to a real board failed; the message names board, port, variant and the cause."""


def _where(board: Board, port: str | None, variant: str) -> str:
    return f"board {board.key}, port {port or '?'}, variant {variant}"


def _arduino_message(result: dict) -> str:
    """arduino-cli --format json prints {"error": ...} on failure; else use its stderr/stdout."""
    parsed = result.get("result")
    if isinstance(parsed, dict):
        for key in ("error", "message"):
            if parsed.get(key):
                return str(parsed[key])
    text = (result.get("__stderr") or result.get("__stdout") or "").strip()
    return text[-800:] or "no output"


def upload_arduino(board: Board, port: str, variant: str, *, input_file: str | Path | None = None,
                   input_dir: str | Path | None = None, cli_path: str = "arduino-cli") -> dict:
    """`arduino-cli upload --fqbn F --port P --input-file|--input-dir X` through pyduinocli.

    Returns arduino-cli's parsed JSON result.
    """
    from pyduinocli import Arduino, ArduinoError

    where = _where(board, port, variant)
    if not board.fqbn:
        raise FlashError(f"{where}: boards.{board.key}.fqbn is not set (arduino-cli needs it)")
    if input_file is None and input_dir is None:
        raise FlashError(f"{where}: no firmware image to upload (build.json lists none)")
    if shutil.which(cli_path) is None:
        raise FlashError(f"{where}: `{cli_path}` is not on PATH; install arduino-cli and the "
                         f"core of {board.fqbn} (arduino-cli core install "
                         f"{':'.join(board.fqbn.split(':')[:2])})")
    try:
        result = Arduino(cli_path).upload(
            fqbn=board.fqbn, port=port,
            input_file=str(input_file) if input_file else None,
            input_dir=str(input_dir) if input_dir else None)
    except ArduinoError as exc:
        raise FlashError(f"{where}: arduino-cli upload failed: {_arduino_message(exc.result)}") \
            from None
    except OSError as exc:
        raise FlashError(f"{where}: cannot run {cli_path}: {exc}") from None
    parsed = result.get("result")
    if isinstance(parsed, dict) and parsed.get("error"):
        raise FlashError(f"{where}: arduino-cli upload failed: {parsed['error']}")
    return parsed if isinstance(parsed, dict) else {"output": parsed}


def _esptool_argv(tool: str) -> list[str]:
    found = shutil.which(tool)
    if found is None:
        raise FileNotFoundError(tool)
    return [found]


def write_flash_esp32(board: Board, port: str, variant: str, images: list[tuple[int, Path]],
                      *, tool: str = "esptool", chip: str = "esp32",
                      baud: int = 460800) -> list[str]:
    """`esptool --chip esp32 --port P --baud B write-flash <offset> <file> ...`; returns argv.

    `images` are (offset, file) pairs from build.json: an ESP-IDF merged image goes at 0x0.
    """
    where = _where(board, port, variant)
    if not images:
        raise FlashError(f"{where}: no flash images (offset, file) in build.json")
    for offset, path in images:
        if not Path(path).is_file():
            raise FlashError(f"{where}: flash image {path} (offset {offset:#x}) is missing")
    try:
        argv = _esptool_argv(tool)
    except FileNotFoundError:
        raise FlashError(f"{where}: `{tool}` is not on PATH (pip install esptool)") from None
    argv += ["--chip", chip, "--port", port, "--baud", str(baud), "write-flash"]
    for offset, path in sorted(images):
        argv += [f"{offset:#x}", str(path)]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=UPLOAD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise FlashError(f"{where}: esptool write-flash did not finish within "
                         f"{UPLOAD_TIMEOUT_S} s") from None
    if proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip())[-800:]
        raise FlashError(f"{where}: esptool write-flash failed (exit {proc.returncode}): {tail}")
    return argv


def _ssh_target(board: Board, variant: str) -> tuple[str, list[str], list[str]]:
    ssh = board.ssh
    host, user = ssh.get("host"), ssh.get("user")
    where = f"board {board.key}, host {host or '?'}, variant {variant}"
    if not host:
        raise FlashError(f"{where}: boards.{board.key}.ssh.host is not set")
    target = f"{user}@{host}" if user else host
    common = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=20"]
    if ssh.get("key_file"):
        key = Path(ssh["key_file"]).expanduser()
        if not key.is_file():
            raise FlashError(f"{where}: ssh key file {key} does not exist")
        common += ["-i", str(key)]
    port = ssh.get("port")
    ssh_opts = common + (["-p", str(port)] if port else [])
    scp_opts = common + (["-P", str(port)] if port else [])
    return target, ssh_opts, scp_opts


def run_over_ssh(board: Board, variant: str, binary: str | Path, sha256: str,
                 timeout_s: float) -> str:
    """Copy the static binary to the rpi4 and run it there; return its stdout (result lines)."""
    target, ssh_opts, scp_opts = _ssh_target(board, variant)
    where = f"board {board.key}, host {target}, variant {variant}"
    remote = f"{REMOTE_DIR}/tinyeit-{sha256[:16]}"
    steps = [
        (["ssh", *ssh_opts, target, f"mkdir -p {REMOTE_DIR}"], "create the remote folder"),
        (["scp", "-q", *scp_opts, str(binary), f"{target}:{remote}"], "copy the firmware"),
        (["ssh", *ssh_opts, target, f"chmod +x {shlex.quote(remote)} && {shlex.quote(remote)}"],
         "run the firmware"),
    ]
    for argv, what in steps:
        if shutil.which(argv[0]) is None:
            raise FlashError(f"{where}: `{argv[0]}` is not on PATH (apt-get install openssh-client)")
        limit = timeout_s if what == "run the firmware" else SSH_STEP_TIMEOUT_S
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=limit)
        except subprocess.TimeoutExpired:
            raise FlashError(f"{where}: could not {what}: `{argv[0]}` gave no answer within "
                             f"{limit:g} s (killed)") from None
        if proc.returncode != 0:
            tail = (proc.stderr.strip() or proc.stdout.strip())[-800:]
            raise FlashError(f"{where}: could not {what} (exit {proc.returncode}): {tail}")
    return proc.stdout
