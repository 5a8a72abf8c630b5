"""Parse the firmware's result lines, from QEMU's stdout or a board's serial port alike.

Every firmware prints, on its console:

    TINYEIT BEGIN v=1 board=<board> frames=<n> in=<input_size> out=<output_size> clock_hz=<hz>
    TINYEIT FRAME i=<index> ticks=<uint32> out=<hex of the raw output bytes>
    ...
    TINYEIT END status=ok            (or: TINYEIT END status=error code=<int>)

A console also carries boot messages, noise and, on a real board, resets. The parser ignores
anything before BEGIN and any line that is not a protocol line, and refuses what would make a
figure wrong: a truncated or malformed protocol line, a second BEGIN (the board reset mid-run),
frames out of order, a frame count that disagrees with BEGIN, or no END. One parser serves the
emulator and the serial transports, so both are held to the same contract.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from tinyeit.errors import TinyEitError

PREFIX = "TINYEIT "
PROTOCOL_VERSION = 1

_BEGIN = re.compile(
    r"TINYEIT BEGIN v=(?P<v>\d+) board=(?P<board>[A-Za-z0-9_]+) frames=(?P<frames>\d+) "
    r"in=(?P<inp>\d+) out=(?P<out>\d+) clock_hz=(?P<clock>\d+)")
_FRAME = re.compile(r"TINYEIT FRAME i=(?P<i>\d+) ticks=(?P<ticks>\d+) out=(?P<hex>[0-9a-fA-F]*)")
_END = re.compile(r"TINYEIT END status=(?:(?P<ok>ok)|error code=(?P<code>-?\d+))")
_UINT32_MAX = 2**32 - 1


class ProtocolError(TinyEitError):
    """The result lines break the contract; the message says which line and why."""


@dataclass(frozen=True)
class Frame:
    index: int
    ticks: int
    output: bytes


@dataclass(frozen=True)
class Run:
    """One complete run: the BEGIN header, every frame, and how it ended."""
    board: str
    n_frames: int
    input_size: int
    output_size: int
    clock_hz: int
    frames: tuple[Frame, ...]
    status: str              # "ok" or "error"
    error_code: int | None = None


@dataclass
class Parser:
    """Incremental: feed lines as they arrive (a serial reader stops as soon as `done`).

    `where` prefixes every message (e.g. "board nicla_sense, port /dev/ttyACM0, variant v").
    `boards` are the names BEGIN may carry (a board's key and alias); empty accepts any.
    `output_bytes`, when known, is the byte length every FRAME's output must have.
    """
    where: str = ""
    boards: tuple[str, ...] = ()
    output_bytes: int | None = None
    _header: dict | None = None
    _frames: list[Frame] = field(default_factory=list)
    _result: Run | None = None
    _line_no: int = 0

    @property
    def done(self) -> bool:
        return self._result is not None

    @property
    def started(self) -> bool:
        return self._header is not None

    @property
    def frames_seen(self) -> int:
        return len(self._frames)

    def _fail(self, message: str, line: str | None = None) -> ProtocolError:
        shown = f": {line[:120]!r}" if line is not None else ""
        prefix = f"{self.where}: " if self.where else ""
        return ProtocolError(f"{prefix}{message} (console line {self._line_no}{shown})")

    def feed(self, raw: bytes | str, *, terminated: bool = True) -> None:
        """Take one console line (without or with its line ending).

        `terminated=False` marks the last, unfinished piece of a stream: if it is a protocol
        line that was cut off, that is an error rather than a silently shorter run.
        """
        if self.done:
            return
        self._line_no += 1
        text = raw.decode("ascii", errors="replace") if isinstance(raw, (bytes, bytearray)) else raw
        text = text.rstrip("\r\n")
        at = text.find(PREFIX)
        if at < 0:
            return  # boot messages, noise: not ours
        if at > 0:
            if self.started:
                raise self._fail("a protocol line is preceded by other bytes on the same line "
                                 "(a truncated or corrupted line)", text)
            text = text[at:]  # noise glued to the first line after a reset
        if not terminated:
            raise self._fail("the console stopped in the middle of a line (truncated)", text)
        if text.startswith("TINYEIT BEGIN"):
            self._begin(text)
        elif text.startswith("TINYEIT FRAME"):
            self._frame(text)
        elif text.startswith("TINYEIT END"):
            self._end(text)
        else:
            raise self._fail("unknown protocol line", text)

    def _begin(self, text: str) -> None:
        if self.started:
            raise self._fail(
                f"a second BEGIN after {len(self._frames)} of {self._header['frames']} frames: "
                "the board reset mid-run", text)
        m = _BEGIN.fullmatch(text)
        if not m:
            raise self._fail("malformed or truncated BEGIN line", text)
        if int(m["v"]) != PROTOCOL_VERSION:
            raise self._fail(f"protocol version {m['v']}, expected {PROTOCOL_VERSION}", text)
        if self.boards and m["board"] not in self.boards:
            raise self._fail(f"the firmware says board={m['board']}, expected one of "
                             f"{', '.join(self.boards)} (wrong firmware flashed?)", text)
        self._header = {"board": m["board"], "frames": int(m["frames"]), "in": int(m["inp"]),
                        "out": int(m["out"]), "clock_hz": int(m["clock"])}

    def _frame(self, text: str) -> None:
        if not self.started:
            return  # the tail of a run from before a reset: ignored like any pre-BEGIN output
        m = _FRAME.fullmatch(text)
        if not m:
            raise self._fail("malformed or truncated FRAME line", text)
        index, ticks, hexed = int(m["i"]), int(m["ticks"]), m["hex"]
        if index != len(self._frames):
            raise self._fail(f"frame {index} where frame {len(self._frames)} was expected", text)
        if index >= self._header["frames"]:
            raise self._fail(f"more frames than the {self._header['frames']} BEGIN announced", text)
        if ticks > _UINT32_MAX:
            raise self._fail(f"ticks={ticks} exceeds a 32-bit counter", text)
        if len(hexed) % 2:
            raise self._fail("odd number of hex digits in out= (truncated)", text)
        output = bytes.fromhex(hexed)
        expected = self.output_bytes
        if expected is None and self._frames:
            expected = len(self._frames[0].output)
        if expected is not None and len(output) != expected:
            raise self._fail(f"out= has {len(output)} bytes, expected {expected} (truncated?)", text)
        if len(output) == 0 or len(output) % self._header["out"]:
            raise self._fail(f"out= has {len(output)} bytes, not a whole number of the "
                             f"{self._header['out']} outputs BEGIN announced", text)
        self._frames.append(Frame(index, ticks, output))

    def _end(self, text: str) -> None:
        if not self.started:
            return
        m = _END.fullmatch(text)
        if not m:
            raise self._fail("malformed or truncated END line", text)
        header = self._header
        if m["ok"] and len(self._frames) != header["frames"]:
            raise self._fail(f"END after {len(self._frames)} frames, BEGIN announced "
                             f"{header['frames']}", text)
        self._result = Run(
            board=header["board"], n_frames=header["frames"], input_size=header["in"],
            output_size=header["out"], clock_hz=header["clock_hz"], frames=tuple(self._frames),
            status="ok" if m["ok"] else "error",
            error_code=None if m["ok"] else int(m["code"]))

    def result(self) -> Run:
        """The finished run; an error saying how far it got if END never came."""
        if self._result is not None:
            return self._result
        if not self.started:
            raise self._fail("no 'TINYEIT BEGIN' line: the firmware printed no results")
        raise self._fail(f"no END line: output stopped after {len(self._frames)} of "
                         f"{self._header['frames']} frames")


def parse(stream: bytes | str, *, where: str = "", boards: tuple[str, ...] = (),
          output_bytes: int | None = None) -> Run:
    """Parse a whole captured console (bytes or text); raise ProtocolError on any breach."""
    parser = Parser(where=where, boards=boards, output_bytes=output_bytes)
    data = stream.encode("latin-1") if isinstance(stream, str) else bytes(stream)
    lines = data.split(b"\n")
    tail = lines.pop()  # after the last '\n': empty when the stream ended cleanly
    for line in lines:
        parser.feed(line)
        if parser.done:
            return parser.result()
    if tail.strip(b"\r"):
        parser.feed(tail, terminated=False)
    return parser.result()
