"""Talk to a real board over its USB serial port: find the port, read the result lines.

`port: auto` in config.yaml finds the board by its USB VID:PID (`usb_ids`), so the same config
works whichever /dev/ttyACM* the board got. The reader feeds the protocol parser line by line
and stops at END; it gives up after a timeout, and every failure names board, port and variant.
"""
from __future__ import annotations

import time

from tinyeit.deploy.boards import Board
from tinyeit.deploy.protocol import Parser, ProtocolError, Run
from tinyeit.errors import TinyEitError


class SerialError(TinyEitError):
    """A real board could not be reached or did not deliver a complete run."""


def _where(board: Board, port: str | None, variant: str) -> str:
    return f"board {board.key}, port {port or '?'}, variant {variant}"


def find_port(board: Board, variant: str = "?", ports=None) -> str:
    """The configured port, or for `auto` the one port whose VID:PID is in `usb_ids`.

    `ports` is a list of pyserial ListPortInfo-like objects (default: `list_ports.comports()`).
    """
    if board.port and board.port != "auto":
        return board.port
    if not board.usb_ids:
        raise SerialError(f"{_where(board, 'auto', variant)}: port is 'auto' but "
                          f"boards.{board.key}.usb_ids is empty; set a port or USB ids")
    if ports is None:
        from serial.tools import list_ports
        ports = list_ports.comports()
    wanted = {uid.lower() for uid in board.usb_ids}
    found = sorted(p.device for p in ports
                   if p.vid is not None and f"{p.vid:04x}:{p.pid:04x}" in wanted)
    if not found:
        seen = ", ".join(f"{p.device} ({p.vid:04x}:{p.pid:04x})" if p.vid is not None
                         else p.device for p in ports) or "none"
        raise SerialError(f"{_where(board, 'auto', variant)}: no serial port with USB id "
                          f"{', '.join(board.usb_ids)}; ports seen: {seen}. Is the board plugged in?")
    if len(found) > 1:
        raise SerialError(f"{_where(board, 'auto', variant)}: several ports match USB id "
                          f"{', '.join(board.usb_ids)}: {', '.join(found)}; set boards."
                          f"{board.key}.port to one of them")
    return found[0]


def open_port(board: Board, port: str, variant: str):
    import serial

    try:
        return serial.Serial(port, board.baudrate, timeout=0.2)
    except (serial.SerialException, OSError) as exc:
        raise SerialError(f"{_where(board, port, variant)}: cannot open the serial port: {exc}") \
            from None


def read_run(link, board: Board, port: str, variant: str, timeout_s: float,
             output_bytes: int | None = None, clock=time.monotonic) -> Run:
    """Read lines from an open serial link (pyserial-like: `read(n)`) until END or `timeout_s`.

    A reset mid-run (a second BEGIN), garbage inside a run, a truncated line, and silence all
    end in SerialError naming board, port and variant.
    """
    where = _where(board, port, variant)
    parser = Parser(where=where, boards=board.names, output_bytes=output_bytes)
    deadline = clock() + timeout_s
    pending = b""
    received = 0
    try:
        while not parser.done:
            if clock() > deadline:
                break
            chunk = link.read(4096)
            if not chunk:
                continue
            received += len(chunk)
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                parser.feed(line)
                if parser.done:
                    break
        if parser.done:
            return parser.result()
        if pending.strip(b"\r\x00"):
            parser.feed(pending, terminated=False)
    except ProtocolError as exc:
        raise SerialError(str(exc)) from None
    except OSError as exc:
        raise SerialError(f"{where}: serial read failed: {exc}") from None
    if received == 0:
        raise SerialError(f"{where}: the board sent nothing within {timeout_s:g} s "
                          "(not running the firmware? wrong port or baud rate?)")
    if not parser.started:
        raise SerialError(f"{where}: no 'TINYEIT BEGIN' within {timeout_s:g} s "
                          f"({received} bytes of other output)")
    raise SerialError(f"{where}: timed out after {timeout_s:g} s with {parser.frames_seen} "
                      "frame(s) and no END line")


def reset_esp32(link, pulse_s: float = 0.1) -> bool:
    """Pull EN low through RTS (as esptool does) so the run starts after the port is open.

    A port without modem lines cannot reset the board; the firmware's start-up delay then has to
    do (False is returned).
    """
    try:
        link.dtr = False
        link.rts = True
        time.sleep(pulse_s)
        link.rts = False
    except OSError:
        return False
    return True
