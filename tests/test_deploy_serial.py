"""The serial reader against a pty peer that plays a board, and port discovery by USB id."""
from types import SimpleNamespace

import pytest

from pty_board import PtyBoard
from tinyeit.deploy.boards import Board
from tinyeit.deploy.serial_link import SerialError, find_port, open_port, read_run

BOARD = Board(key="nicla_sense", alias="nicla", family="cortex_m4f", clock_hz=64_000_000,
              flash_bytes=524288, ram_bytes=65536, active_power_mw=11.1, power_source="ds",
              transport="serial", port=None, usb_ids=("2341:8060",), fqbn="arduino:mbed_nicla:nicla_sense")

GOOD = [b"TINYEIT BEGIN v=1 board=nicla frames=2 in=4 out=2 clock_hz=64000000\r\n",
        b"TINYEIT FRAME i=0 ticks=6400 out=0102\r\n",
        b"TINYEIT FRAME i=1 ticks=6402 out=0304\r\n",
        b"TINYEIT END status=ok\r\n"]


def read(chunks, timeout_s=3.0):
    """Open the port, let the fake board play (the handshake), read one run."""
    board = PtyBoard(chunks)
    try:
        link = open_port(BOARD, board.port, "v1")
        try:
            board.play()
            return read_run(link, BOARD, board.port, "v1", timeout_s, output_bytes=2), board.port
        finally:
            link.close()
    finally:
        board.close()


class ScriptedLink:
    """A pyserial-like link whose reads return the given chunks one by one, then nothing."""

    def __init__(self, chunks):
        self.chunks = list(chunks)

    def read(self, n):
        return self.chunks.pop(0) if self.chunks else b""


def test_good_run_with_boot_garbage_over_a_pty():
    run, _ = read([b"\x00\xf0garbage \x13\r\nboot ok\r\n", *GOOD])
    assert [f.ticks for f in run.frames] == [6400, 6402] and run.board == "nicla"
    assert [f.output for f in run.frames] == [b"\x01\x02", b"\x03\x04"]


def test_lines_split_across_reads():
    raw = b"boot ok\r\n" + b"".join(GOOD)
    chunks = [raw[i:i + 7] for i in range(0, len(raw), 7)]   # every read ends mid-line
    run = read_run(ScriptedLink(chunks), BOARD, "/dev/fake", "v1", 3.0, output_bytes=2)
    assert [f.ticks for f in run.frames] == [6400, 6402] and run.board == "nicla"


def test_board_that_never_answers():
    with pytest.raises(SerialError) as err:
        read([], timeout_s=0.6)
    assert "sent nothing within 0.6 s" in str(err.value)
    assert "board nicla_sense, port /dev/" in str(err.value) and "variant v1" in str(err.value)


def test_only_garbage():
    with pytest.raises(SerialError, match="no 'TINYEIT BEGIN' within"):
        read([b"\xff\xfe boot loop\r\n"], timeout_s=0.6)


def test_truncated_line_then_silence():
    with pytest.raises(SerialError, match="stopped in the middle of a line"):
        read(GOOD[:2] + [GOOD[2][:15]], timeout_s=0.8)


def test_truncated_line_followed_by_more_lines():
    with pytest.raises(SerialError, match="truncated FRAME"):
        read(GOOD[:2] + [GOOD[2][:15]] + GOOD[2:], timeout_s=2)


def test_reset_mid_run():
    with pytest.raises(SerialError, match="second BEGIN after 1 of 2 frames: the board reset"):
        read(GOOD[:2] + [b"\x00\x00rst\r\n"] + GOOD)


def test_missing_end_times_out_with_progress():
    with pytest.raises(SerialError, match="timed out after 0.8 s with 2 frame"):
        read(GOOD[:3], timeout_s=0.8)


def test_open_port_error_names_board_port_variant():
    with pytest.raises(SerialError, match="board nicla_sense, port /dev/nonexistent-tty, variant x: "
                                          "cannot open"):
        open_port(BOARD, "/dev/nonexistent-tty", "x")


def _port(device, vid, pid):
    return SimpleNamespace(device=device, vid=vid, pid=pid)


def test_find_port_by_usb_id():
    ports = [_port("/dev/ttyS0", None, None), _port("/dev/ttyACM0", 0x2341, 0x805A),
             _port("/dev/ttyACM1", 0x2341, 0x8060)]
    assert find_port(BOARD, "v", ports) == "/dev/ttyACM1"
    with pytest.raises(SerialError, match="no serial port with USB id 2341:8060; ports seen: "
                                          "/dev/ttyS0, /dev/ttyACM0 \\(2341:805a\\)"):
        find_port(BOARD, "v", ports[:2])
    with pytest.raises(SerialError, match="several ports match"):
        find_port(BOARD, "v", ports + [_port("/dev/ttyACM2", 0x2341, 0x8060)])
    fixed = Board(**{**BOARD.__dict__, "port": "/dev/ttyUSB7"})
    assert find_port(fixed, "v", []) == "/dev/ttyUSB7"
