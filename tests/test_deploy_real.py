"""Real-board transports without hardware: fake arduino-cli, esptool, ssh and scp executables on
PATH that record their argv, and a pty peer playing the board's serial console."""
import json

import numpy as np
import pytest

from fakes import LINES, calls, fake_tool
from tinyeit.deploy import flashers
from tinyeit.deploy.boards import board_from_config
from tinyeit.deploy.run import profile_pair
from tinyeit.errors import TinyEitError

OUT = np.array([[1, -2], [3, 4]], dtype=np.int8)



def study(tmp_path, board_key, **settings):
    base = {"nicla_sense": dict(alias="nicla", family="cortex_m4f", clock_hz=64_000_000,
                                flash_bytes=524288, ram_bytes=65536, fqbn="arduino:mbed_nicla:nicla_sense",
                                usb_ids=["2341:8060"], active_power_mw=11.1, power_source="datasheet"),
            "esp32": dict(alias="esp32", family="esp32", clock_hz=240_000_000, flash_bytes=4194304,
                          ram_bytes=532480, active_power_mw=224.4, power_source="datasheet"),
            "rpi4": dict(alias="rpi4", family="aarch64_linux", clock_hz=1_500_000_000, flash_bytes=0,
                         ram_bytes=0, active_power_mw=3400.0, power_source="datasheet")}[board_key]
    base.update(settings)
    fw = tmp_path / "firmware"
    fw.mkdir(exist_ok=True)
    (fw / "sketch.ino.bin").write_bytes(b"arduino image")
    (fw / "merged.bin").write_bytes(b"esp image")
    (fw / "firmware").write_bytes(b"aarch64 binary")
    build = {"status": "ok", "flash_bytes": 1000, "ram_bytes": 200, "arena_bytes": 64,
             "sha256": "ab" * 32, "arduino": {"input_file": "sketch.ino.bin"},
             "flash_images": [{"offset": "0x0", "path": "merged.bin"}], "binary": "firmware"}
    (fw / "build.json").write_text(json.dumps(build))
    np.savez(tmp_path / "frames.npz", input=np.zeros((2, 4), np.int8), output=OUT,
             label=np.zeros(2, np.int64))
    (tmp_path / "metrics.json").write_text(json.dumps({"macs": 1000}))
    args = dict(config={"boards": {board_key: base}}, board_key=board_key, variant="baseline+ptq_int8",
                build_json=fw / "build.json", frames_npz=tmp_path / "frames.npz",
                metrics_json=tmp_path / "metrics.json", out=tmp_path / "deploy" / "profile.json")
    return args


def test_arduino_upload_then_serial_profile(tmp_path, bin_dir, pty_boards):
    fake_tool(bin_dir, "arduino-cli", stdout=json.dumps({"updated_upload_port": None}))
    board = pty_boards(LINES)
    args = study(tmp_path, "nicla_sense", transport="serial", port=board.port)
    record = profile_pair(**args)
    fw = tmp_path / "firmware"
    assert calls(bin_dir, "arduino-cli") == [[
        "--format", "json", "upload", "--fqbn", "arduino:mbed_nicla:nicla_sense",
        "--input-file", str(fw / "sketch.ino.bin"), "--port", board.port]]
    assert record["status"] == "ok" and record["transport"] == "serial"
    assert record["latency_ms"] == pytest.approx(1.0) and record["latency_is_estimate"] is False
    assert record["energy_uj"] == pytest.approx(11.1) and record["energy_is_estimate"] is True
    assert record["outputs_match_host"] is True and record["instructions_per_inference"] is None
    assert json.loads(args["out"].read_text()) == record


def test_arduino_upload_error_is_surfaced_and_no_profile_written(tmp_path, bin_dir):
    fake_tool(bin_dir, "arduino-cli", exit_code=1,
              stdout=json.dumps({"error": "Failed uploading: no upload port provided"}))
    args = study(tmp_path, "nicla_sense", transport="serial", port="/dev/ttyACM9")
    with pytest.raises(TinyEitError) as err:
        profile_pair(**args)
    message = str(err.value)
    assert "board nicla_sense, port /dev/ttyACM9, variant baseline+ptq_int8" in message
    assert "Failed uploading: no upload port provided" in message
    assert not args["out"].exists()


def test_missing_arduino_cli(tmp_path, bin_dir, monkeypatch):
    monkeypatch.setenv("PATH", str(bin_dir))
    args = study(tmp_path, "nicla_sense", transport="serial", port="/dev/ttyACM9")
    with pytest.raises(TinyEitError, match="`arduino-cli` is not on PATH"):
        profile_pair(**args)
    assert not args["out"].exists()


def test_board_resets_mid_run_fails_the_job(tmp_path, bin_dir, pty_boards):
    fake_tool(bin_dir, "arduino-cli", stdout="{}")
    half = LINES.split(b"\r\n")
    board = pty_boards(b"\r\n".join(half[:2]) + b"\r\n\x00boot\r\n" + LINES)
    args = study(tmp_path, "nicla_sense", transport="serial", port=board.port)
    with pytest.raises(TinyEitError, match=f"board nicla_sense, port {board.port}, variant "
                                           "baseline\\+ptq_int8: a second BEGIN"):
        profile_pair(**args)
    assert not args["out"].exists()


def test_esptool_write_flash_at_merged_offset(tmp_path, bin_dir, pty_boards):
    fake_tool(bin_dir, "esptool", stdout="Hash of data verified.")
    board = pty_boards(LINES.replace(b"board=nicla", b"board=esp32").replace(b"64000000", b"240000000"))
    args = study(tmp_path, "esp32", transport="serial", port=board.port)
    record = profile_pair(**args)
    assert calls(bin_dir, "esptool") == [[
        "--chip", "esp32", "--port", board.port, "--baud", "460800", "write-flash",
        "0x0", str(tmp_path / "firmware" / "merged.bin")]]
    assert record["status"] == "ok"
    assert record["latency_ms"] == pytest.approx(64000 / 240e6 * 1e3)


def test_esptool_failure(tmp_path, bin_dir):
    fake_tool(bin_dir, "esptool", exit_code=2,
              stderr="A fatal error occurred: Failed to connect to ESP32: No serial data received.")
    args = study(tmp_path, "esp32", transport="serial", port="/dev/ttyUSB0")
    with pytest.raises(TinyEitError, match="board esp32, port /dev/ttyUSB0, variant "
                                           "baseline\\+ptq_int8: esptool write-flash failed "
                                           "\\(exit 2\\): A fatal error occurred: Failed to connect"):
        profile_pair(**args)
    assert not args["out"].exists()


def test_rpi4_over_ssh(tmp_path, bin_dir):
    key = tmp_path / "id_ed25519"
    key.write_text("not a real key")
    rpi_lines = LINES.replace(b"board=nicla", b"board=rpi4").replace(b"\r\n", b"\n") \
        .replace(b"ticks=64000", b"ticks=150000").replace(b"ticks=64010", b"ticks=150100")
    fake_tool(bin_dir, "scp")
    fake_tool(bin_dir, "ssh", stdout=rpi_lines.decode())
    args = study(tmp_path, "rpi4", transport="ssh",
                 ssh={"host": "pi.local", "user": "pi", "key_file": str(key), "port": 2222})
    record = profile_pair(**args)
    sha = record["firmware_sha256"]
    remote = f"/tmp/tinyeit/tinyeit-{sha[:16]}"
    opts = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=20", "-i", str(key)]
    assert calls(bin_dir, "scp") == [["-q", *opts, "-P", "2222",
                                      str(tmp_path / "firmware" / "firmware"), f"pi@pi.local:{remote}"]]
    assert calls(bin_dir, "ssh") == [[*opts, "-p", "2222", "pi@pi.local", "mkdir -p /tmp/tinyeit"],
                                     [*opts, "-p", "2222", "pi@pi.local", f"chmod +x {remote} && {remote}"]]
    assert record["latency_ms"] == pytest.approx(0.15) and record["latency_is_estimate"] is False
    assert record["energy_uj"] == pytest.approx(3400 * 0.15)


def test_ssh_without_host_is_a_clear_error(tmp_path, bin_dir):
    args = study(tmp_path, "rpi4", transport="ssh", ssh={"host": None, "user": "pi"})
    with pytest.raises(TinyEitError, match="board rpi4, host \\?, variant baseline\\+ptq_int8: "
                                           "boards.rpi4.ssh.host is not set"):
        profile_pair(**args)


def test_serial_on_a_linux_board_is_refused():
    with pytest.raises(TinyEitError, match="boards.rpi4.transport: a Linux board is reached over ssh"):
        board_from_config({"boards": {"rpi4": {"family": "aarch64_linux", "transport": "serial"}}},
                          "rpi4")


class FakePpk2:
    """Stands for ppk2_api.PPK2_API: records the calls, returns a constant 2000 uA."""
    log: list = []

    def __init__(self, port):
        self.log.append(("open", port))

    def get_modifiers(self): self.log.append("modifiers")
    def use_source_meter(self): self.log.append("source")
    def set_source_voltage(self, mv): self.log.append(("voltage", mv))
    def toggle_DUT_power(self, state): self.log.append(("power", state))
    def start_measuring(self): self.log.append("start")
    def stop_measuring(self): self.log.append("stop")
    def get_data(self): return b"\x00" * 8
    def get_samples(self, data): return [2000.0, 2000.0], []


def test_ppk2_gives_measured_energy(tmp_path, bin_dir, monkeypatch, pty_boards):
    from tinyeit.deploy import power

    real_init = power.Ppk2Meter.__init__
    monkeypatch.setattr(power.Ppk2Meter, "__init__",
                        lambda self, cfg, key: real_init(self, cfg, key, api_factory=FakePpk2))
    fake_tool(bin_dir, "arduino-cli", stdout="{}")
    board = pty_boards(LINES)
    args = study(tmp_path, "nicla_sense", transport="serial", port=board.port,
                 power_meter={"type": "ppk2", "port": "/dev/ttyACM5", "voltage_mv": 3000})
    record = profile_pair(**args)
    # 2 mA x 3.0 V = 6 mW, x 1.0 ms = 6 uJ
    assert record["energy_uj"] == pytest.approx(6.0) and record["energy_is_estimate"] is False
    assert record["power_source"].startswith("Nordic PPK2 measurement")
    assert FakePpk2.log[:6] == [("open", "/dev/ttyACM5"), "modifiers", "source", ("voltage", 3000),
                                ("power", "ON"), "start"] and FakePpk2.log[-1] == "stop"


def test_arduino_message_prefers_json_error():
    assert flashers._arduino_message({"result": {"error": "boom"}, "__stderr": "x"}) == "boom"
    assert flashers._arduino_message({"result": "not json", "__stderr": "bad port"}) == "bad port"
