"""The result-line parser: what it accepts, and every way a console can lie that it refuses."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyeit.deploy.protocol import Parser, ProtocolError, parse


def lines(n=3, out_hex=("0102", "0304", "0506"), board="rpi4", end="TINYEIT END status=ok"):
    body = [f"TINYEIT BEGIN v=1 board={board} frames={n} in=4 out=2 clock_hz=64000000"]
    body += [f"TINYEIT FRAME i={i} ticks={100 + i} out={out_hex[i]}" for i in range(n)]
    if end:
        body.append(end)
    return body


def stream(body, sep="\n"):
    return (sep.join(body) + sep).encode()


def test_clean_run():
    run = parse(stream(lines()))
    assert (run.board, run.n_frames, run.input_size, run.output_size, run.clock_hz) == \
        ("rpi4", 3, 4, 2, 64000000)
    assert [f.ticks for f in run.frames] == [100, 101, 102]
    assert [f.output for f in run.frames] == [b"\x01\x02", b"\x03\x04", b"\x05\x06"]
    assert run.status == "ok" and run.error_code is None


def test_garbage_before_begin_crlf_and_foreign_lines_are_ignored():
    body = lines()
    body.insert(2, "I (123) boot: some log line")
    raw = b"\x00\xff\xfe rst:0x1 (POWERON)\r\nets Jun  8 2016\r\n\x00\x13" + stream(body, "\r\n")
    run = parse(raw)
    assert len(run.frames) == 3


def test_output_after_end_is_ignored():
    run = parse(stream(lines() + ["TINYEIT BEGIN v=1 garbage", "whatever"]))
    assert run.status == "ok"


def test_error_end():
    body = lines(n=3, end=None)[:2] + ["TINYEIT END status=error code=-3"]
    run = parse(stream(body))
    assert run.status == "error" and run.error_code == -3 and len(run.frames) == 1


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b[:1] + b[2:], "frame 1 where frame 0 was expected"),
    (lambda b: b[:3] + b[4:], "END after 2 frames, BEGIN announced 3"),
    (lambda b: b[:2] + b[:1] + b[2:], "second BEGIN after 1 of 3 frames: the board reset"),
    (lambda b: b[:-1], "no END line: output stopped after 3 of 3 frames"),
    (lambda b: ["hello", "world"], "no 'TINYEIT BEGIN' line"),
    (lambda b: b[:2] + ["TINYEIT FRAME i=1 ticks=1"] + b[3:], "malformed or truncated FRAME"),
    (lambda b: b[:2] + ["TINYEIT FRAME i=1 ticks=1 out=010"] + b[3:], "odd number of hex"),
    (lambda b: b[:2] + ["TINYEIT FRAME i=1 ticks=1 out=01"] + b[3:], "out= has 1 bytes, expected 2"),
    (lambda b: b[:2] + ["TINYEIT FRAME i=1 tiTINYEIT FRAME i=1 ticks=1 out=0304"] + b[3:],
     "truncated FRAME"),
    (lambda b: b[:2] + ["xxTINYEIT FRAME i=1 ticks=1 out=0304"] + b[3:], "preceded by other bytes"),
    (lambda b: b[:2] + ["TINYEIT FRAME i=1 ticks=99999999999 out=0304"] + b[3:], "32-bit"),
    (lambda b: b[:2] + ["TINYEIT HELLO"] + b[3:], "unknown protocol line"),
    (lambda b: ["TINYEIT BEGIN v=2 board=rpi4 frames=3 in=4 out=2 clock_hz=1"] + b[1:],
     "protocol version 2"),
    (lambda b: ["TINYEIT BEGIN v=1 board=rpi4 frames=3 in=4"] + b[1:], "malformed or truncated BEGIN"),
    (lambda b: b[:-1] + ["TINYEIT END status=maybe"], "malformed or truncated END"),
])
def test_refused(mutate, message):
    with pytest.raises(ProtocolError, match=message):
        parse(stream(mutate(lines())), where="board rpi4, port p, variant v")


def test_truncated_last_line_is_refused():
    raw = stream(lines())[:-12]  # cut inside the END line, no newline
    with pytest.raises(ProtocolError, match="stopped in the middle of a line"):
        parse(raw)


def test_messages_name_the_place():
    with pytest.raises(ProtocolError, match=r"^board nicla_sense, port /dev/ttyACM0, variant v: "):
        parse(b"nothing\n", where="board nicla_sense, port /dev/ttyACM0, variant v")


def test_board_names_checked_and_output_size_enforced():
    with pytest.raises(ProtocolError, match="wrong firmware flashed"):
        parse(stream(lines(board="esp32")), boards=("rpi4",))
    assert parse(stream(lines(board="nicla")), boards=("nicla_sense", "nicla")).board == "nicla"
    with pytest.raises(ProtocolError, match="expected 4"):
        parse(stream(lines()), output_bytes=4)


def test_incremental_parser_stops_at_end():
    parser = Parser()
    for line in lines():
        assert not parser.done
        parser.feed(line.encode())
    assert parser.done and parser.result().n_frames == 3


frames_strategy = st.lists(
    st.tuples(st.integers(0, 2**32 - 1), st.binary(min_size=8, max_size=8)), min_size=1, max_size=8)
noise_strategy = st.lists(st.text(alphabet=st.characters(blacklist_characters="\n\r",
                                                          blacklist_categories=("Cs",)),
                                  max_size=30).filter(lambda s: "TINYEIT " not in s), max_size=3)


@settings(max_examples=60, deadline=None)
@given(frames=frames_strategy, noise=st.lists(noise_strategy, min_size=10, max_size=10))
def test_any_run_with_noise_lines_parses_back(frames, noise):
    body = [f"TINYEIT BEGIN v=1 board=b frames={len(frames)} in=1 out=2 clock_hz=1"]
    for i, (ticks, out) in enumerate(frames):
        body += noise[i % 10]
        body.append(f"TINYEIT FRAME i={i} ticks={ticks} out={out.hex()}")
    body.append("TINYEIT END status=ok")
    raw = "\n".join(noise[9] + body).encode("utf-8") + b"\n"
    run = parse(raw)
    assert [(f.ticks, f.output) for f in run.frames] == frames
