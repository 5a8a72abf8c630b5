"""Bad input, one kind per test: a clear TinyEitError naming the file, key or board at fault, and
nothing half-written (the stage's output is absent afterwards).

Kinds covered here: corrupt artifacts of every stage (.h5, dataset.npz, frames.npz, build.json,
metrics.json, image stamp, .tflite, summary.json, profile.json, dataset.json), command-line
errors of every `tinyeit` subcommand, real-board failures (ssh/scp failing or hanging, an absent
PPK2, `port: auto` with no matching board), a bad TINYEIT_RUNNER, and a config that removes a
board or a variant (nothing stale is reported). Input-data errors (CSV, xlsx, npz recordings)
are in test_data_errors.py.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import yaml

from fakes import LINES, calls, fake_tool
from report_workflow import report_workflow
from test_report_data import small_summary
from tinyeit.cli import build_parser, main
from tinyeit.deploy import flashers
from tinyeit.deploy.run import profile_pair
from tinyeit.errors import TinyEitError

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "tests" / "configs" / "small.yaml"
VARIANT = "baseline+ptq_int8"
GARBAGE = b"\x00\x01 this is not what the stage wrote \xff\xfe"


def board_settings(key: str, **changes) -> dict:
    board = dict(yaml.safe_load(SMALL.read_text())["boards"][key])
    board.update(changes)
    return board


@pytest.fixture
def deploy(tmp_path):
    """A (board, variant) pair ready to profile: build.json (ok), frames.npz, metrics.json."""
    fw = tmp_path / "firmware"
    fw.mkdir()
    for name, data in (("sketch.ino.bin", b"arduino image"), ("firmware", b"aarch64 binary"),
                       ("firmware.elf", b"elf")):
        (fw / name).write_bytes(data)
    build = {"status": "ok", "flash_bytes": 1000, "ram_bytes": 200, "arena_bytes": 64,
             "sha256": "ab" * 32, "arduino": {"input_file": "sketch.ino.bin"}, "binary": "firmware",
             "elf": "firmware.elf"}
    (fw / "build.json").write_text(json.dumps(build))
    np.savez(tmp_path / "frames.npz", input=np.zeros((2, 4), np.int8),
             output=np.array([[1, -2], [3, 4]], np.int8), label=np.zeros(2, np.int64))
    (tmp_path / "metrics.json").write_text(json.dumps({"macs": 1000}))
    return SimpleNamespace(build=fw / "build.json", frames=tmp_path / "frames.npz",
                           metrics=tmp_path / "metrics.json", out=tmp_path / "deploy" / "profile.json")


def profile(deploy, board_key: str, **settings) -> dict:
    config = {"boards": {board_key: board_settings(board_key, **settings)}}
    return profile_pair(config, board_key, VARIANT, deploy.build, deploy.frames, deploy.metrics,
                        deploy.out)


def refused(deploy, board_key: str, match: str, **settings) -> str:
    """Profiling fails with a message matching `match`, and no profile.json is left."""
    with pytest.raises(TinyEitError, match=match) as err:
        profile(deploy, board_key, **settings)
    assert not deploy.out.exists()
    assert not any(deploy.out.parent.glob("*")) if deploy.out.parent.exists() else True
    return str(err.value)


# --- corrupt artifacts of the earlier stages ---------------------------------------------------

@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """The small study's synthetic dataset, as the dataset stage writes it."""
    from tinyeit import data

    config = yaml.safe_load(SMALL.read_text())
    folder = tmp_path_factory.mktemp("dataset")
    data.build(config["dataset"], config["splits"], config["seed"], folder / "dataset.npz",
               folder / "dataset.json")
    return folder / "dataset.npz"


def test_corrupt_h5_model(tmp_path, dataset, capsys):
    models = tmp_path / "models"
    models.mkdir()
    good = b"\x89HDF\r\n\x1a\n" + b"\x00" * 64     # an HDF5 signature, then nothing valid
    for name in ("fold0", "fold1", "full"):
        (models / f"{name}.h5").write_bytes(good)
    out = tmp_path / "tflite"
    rc = main(["export", VARIANT, "--config", str(SMALL), "--dataset", str(dataset),
               "--model-dir", str(models), "--out-dir", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and f"{models / 'fold0.h5'}: cannot load Keras model" in err, err
    assert not out.exists()


def test_corrupt_dataset_npz(tmp_path, capsys):
    bad = tmp_path / "dataset.npz"
    bad.write_bytes(GARBAGE)
    out = tmp_path / "models" / "baseline"
    rc = main(["step", "baseline", "--config", str(SMALL), "--dataset", str(bad), "--out-dir", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and f"{bad}: not a readable .npz (the dataset stage's output)" in err, err
    assert not out.exists()


def test_truncated_dataset_npz(tmp_path, dataset):
    from tinyeit import data

    cut = tmp_path / "dataset.npz"
    cut.write_bytes(dataset.read_bytes()[:200])
    with pytest.raises(data.DatasetError, match=f"{cut}: not a readable .npz"):
        data.load(cut)


def test_corrupt_frames_npz_at_profile(deploy):
    deploy.frames.write_bytes(GARBAGE)
    refused(deploy, "nicla_sense", f"{deploy.frames}: not a readable .npz \\(the export stage's "
                                   "deployment frames\\): not an .npz archive")


def test_corrupt_frames_npz_at_firmware_build(tmp_path):
    from tinyeit.firmware import build_firmware
    from tinyeit.firmware.fixture_model import write_fixture_model

    write_fixture_model(tmp_path / "cg")
    frames = tmp_path / "frames.npz"
    frames.write_bytes(b"PK\x03\x04" + GARBAGE)   # looks like a zip, is not one
    out = tmp_path / "fw"
    with pytest.raises(TinyEitError, match=f"{frames}: not a readable .npz"):
        build_firmware("nicla_sense", board_settings("nicla_sense"), "fixture", tmp_path / "cg",
                       frames, out)
    assert not out.exists() or list(out.iterdir()) == []


def test_corrupt_build_json(deploy):
    deploy.build.write_text('{"status": "ok", "flash_bytes": ')
    refused(deploy, "nicla_sense", f"{deploy.build}: not valid JSON \\(the firmware build record\\)")


def test_build_json_with_unknown_status(deploy):
    deploy.build.write_text(json.dumps({"status": "maybe"}))
    refused(deploy, "nicla_sense", f"{deploy.build}: status 'maybe' is not one of ok")


def test_corrupt_metrics_json(deploy):
    deploy.metrics.write_text("macs: 1000\n")
    refused(deploy, "nicla_sense", f"{deploy.metrics}: not valid JSON \\(the export stage's model metrics\\)")


def test_metrics_json_without_macs(deploy):
    deploy.metrics.write_text(json.dumps({"params": 10}))
    refused(deploy, "nicla_sense", f"{deploy.metrics}: key 'macs' missing or not a count")


def summary_inputs(tmp_path: Path) -> dict:
    """What the summary stage reads, for one variant and one deployment, all well formed."""
    from tinyeit.deploy.profile import DEPLOYMENT_KEYS

    (tmp_path / "dataset.json").write_text(json.dumps(
        {"source": "synthetic", "n_frames": 60, "n_features": 40, "n_classes": 4, "npz_sha256": "00"}))
    variant_dir = tmp_path / "tflite" / "baseline"
    variant_dir.mkdir(parents=True)
    (variant_dir / "metrics.json").write_text(json.dumps(
        {"params": 1, "nonzero_params": 1, "macs": 1, "keras_bytes": 1, "tflite_bytes": 1,
         "tflite_gzip_bytes": 1, "host_latency_ms_mean": 0.1, "host_latency_ms_std": 0.0}))
    (variant_dir / "accuracy.json").write_text(json.dumps(
        {"accuracy_cv_mean": 0.5, "accuracy_cv_std": 0.1, "accuracy_test": 0.5}))
    (variant_dir / "host_instructions.json").write_text(json.dumps({"host_instructions_per_invoke": 1000}))
    profile_json = tmp_path / "deploy" / "rpi4" / "baseline" / "profile.json"
    profile_json.parent.mkdir(parents=True)
    record = {k: None for k in DEPLOYMENT_KEYS}
    record.update(variant="baseline", board="rpi4", transport="emulator", status="toolchain_unavailable")
    profile_json.write_text(json.dumps(record))
    return {"config": {"boards": {"rpi4": board_settings("rpi4")}},
            "dataset_json": str(tmp_path / "dataset.json"),
            "variant_dirs": {"baseline": str(variant_dir)},
            "deployment_paths": [str(profile_json)], "out": str(tmp_path / "summary.json")}


def test_corrupt_metrics_json_at_summary(tmp_path):
    from tinyeit import summary

    args = summary_inputs(tmp_path)
    metrics = Path(args["variant_dirs"]["baseline"]) / "metrics.json"
    metrics.write_text("{")
    with pytest.raises(TinyEitError, match=f"{metrics}: not valid JSON"):
        summary.write(**args)
    assert not Path(args["out"]).exists()


def test_profile_json_with_unknown_status(tmp_path):
    from tinyeit import summary

    args = summary_inputs(tmp_path)
    path = Path(args["deployment_paths"][0])
    path.write_text(json.dumps({**json.loads(path.read_text()), "status": "flashed"}))
    with pytest.raises(TinyEitError, match=f"{path}: status 'flashed' is not one of ok"):
        summary.write(**args)
    assert not Path(args["out"]).exists()


def test_dataset_json_without_provenance_keys(tmp_path):
    from tinyeit import summary

    args = summary_inputs(tmp_path)
    Path(args["dataset_json"]).write_text(json.dumps({"source": "synthetic"}))
    with pytest.raises(TinyEitError, match=f"{args['dataset_json']}: missing key\\(s\\) n_frames"):
        summary.write(**args)
    assert not Path(args["out"]).exists()


def test_corrupt_image_stamp(tmp_path):
    from tinyeit.firmware import build_firmware
    from tinyeit.firmware.fixture_model import write_fixture_frames, write_fixture_model

    write_fixture_model(tmp_path / "cg")
    write_fixture_frames(tmp_path / "frames.npz")
    stamp = tmp_path / "arm.json"
    stamp.write_text('{"name": "arm", "available": tr')
    out = tmp_path / "fw"
    with pytest.raises(TinyEitError, match=f"{stamp}: not valid JSON \\(the stamp of toolchain image arm\\)"):
        build_firmware("nicla_sense", board_settings("nicla_sense"), "fixture", tmp_path / "cg",
                       tmp_path / "frames.npz", out, image_stamp=stamp)
    assert not out.exists() or list(out.iterdir()) == []


def test_corrupt_summary_json_writes_no_report(tmp_path):
    from tinyeit.report.build import render_report

    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps(small_summary())[:-40])
    out = tmp_path / "report"
    with pytest.raises(TinyEitError, match=f"{summary}: not valid JSON"):
        render_report(summary, out)
    assert not out.exists()


def test_summary_json_with_a_bad_number_writes_no_report(tmp_path):
    from tinyeit.report.build import render_report

    data = small_summary()
    data["variants"][1]["tflite_bytes"] = "big"
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps(data))
    with pytest.raises(TinyEitError, match="variant 'baseline\\+prune': key 'tflite_bytes' is 'big'"):
        render_report(summary, tmp_path / "report")
    assert not (tmp_path / "report").exists()


def test_corrupt_tflite(tmp_path):
    from tinyeit.codegen import generate

    model = tmp_path / "model.tflite"
    model.write_bytes(b"\x1c\x00\x00\x00TFL3" + GARBAGE)   # the identifier, then junk
    out = tmp_path / "codegen"
    with pytest.raises(TinyEitError, match=f"{model}"):
        generate(model, out)
    assert not out.exists() or list(out.iterdir()) == []


def test_bad_tinyeit_runner(tmp_path, monkeypatch):
    from tinyeit import containers

    monkeypatch.setenv("TINYEIT_RUNNER", "podman")
    with pytest.raises(TinyEitError, match="TINYEIT_RUNNER='podman': expected docker, local or auto"):
        containers.run("arm", ["true"], mounts_ro=[], out_dir=tmp_path / "out", timeout=60)
    assert not (tmp_path / "out" / "true").exists()


# --- every subcommand's argument errors ---------------------------------------------------------

def cli_cases(tmp: Path) -> dict[str, tuple[list[str], str, Path]]:
    """subcommand -> (argv, text the error must hold, output that must not appear)."""
    garbage = tmp / "garbage.bin"
    garbage.write_bytes(GARBAGE)
    out = tmp / "out"
    board = json.dumps(board_settings("nicla_sense"))
    return {
        "check-config": ([str(tmp / "nope.yaml")], "nope.yaml: no such config file", out),
        "dataset": (["import", "--format", "npz", str(garbage), str(out / "d.npz")],
                    "garbage.bin", out),
        "step": (["baseline+zz", "--config", str(SMALL), "--out-dir", str(out)], "unknown step 'zz'", out),
        "export": (["baseline", "--config", str(tmp / "nope.yaml"), "--out-dir", str(out)],
                   "nope.yaml: no such config file", out),
        "codegen": ([str(garbage), str(out)], "garbage.bin: not a .tflite flatbuffer", out),
        "codegen-run": ([str(garbage), str(tmp / "nope.npy"), str(out / "o.npy")],
                        "nope.npy: input rows (.npy) not found", out),
        "firmware": (["--board", "nicla_sense", "--variant", "v", "--board-config", "{nicla",
                      "--codegen", str(tmp), "--frames", str(garbage), "--out", str(out)],
                     "--board-config for board nicla_sense: not JSON", out),
        "image": (["riscv", "--stamp", str(out / "s.json")], "argument name: invalid choice: 'riscv'", out),
        "images": (["arm", "riscv"], "argument NAME: invalid choice: 'riscv'", out),
        "profile": (["--board", "nicla_sense", "--variant", "v", "--board-config", board,
                     "--build", str(tmp / "nope.json"), "--frames", str(garbage),
                     "--metrics", str(garbage), "--out", str(out / "p.json")],
                    "nope.json: missing (the firmware build record)", out),
        "summary": ([str(garbage)], "garbage.bin: not valid JSON", out),
        "report": ([str(garbage), str(out)], "garbage.bin: not valid JSON", out),
        "recommend": (["--board", "nicla_sense", "--summary", str(tmp / "nope.json")],
                      "nope.json: cannot read the summary", out),
        "engines": (["--summary", str(garbage)], "garbage.bin: not valid JSON", out),
        "host-latency": ([str(garbage), str(garbage), str(out / "l.json"), "--variant", "v"],
                         "garbage.bin: not a readable .npz", out),
        "host-instructions": ([str(tmp / "nope.tflite"), str(garbage), str(out / "i.json"), "--variant", "v"],
                              "nope.tflite: model file not found", out),
        "manifest": (["--results", str(tmp / "nope"), "--out", str(out / "M")],
                     "nope: no results folder there", out),
        "verify": ([str(tmp / "nope.sha256"), "--results", str(out)], "nope.sha256: no manifest there", out),
    }


def subcommands() -> set[str]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    return set(sub.choices)


def test_every_subcommand_has_an_argument_error_case(tmp_path):
    assert set(cli_cases(tmp_path)) == subcommands()


SUBCOMMANDS = ["check-config", "codegen", "codegen-run", "dataset", "engines", "export", "firmware",
               "host-instructions", "host-latency", "image", "images", "manifest", "profile", "recommend",
               "report", "step", "summary", "verify"]


def test_every_subcommand_is_listed():
    assert set(SUBCOMMANDS) == subcommands()


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_cli_argument_error(command, tmp_path, capsys):
    argv, message, out = cli_cases(tmp_path)[command]
    try:
        rc = main([command, *argv])
    except SystemExit as exc:   # argparse's own usage errors
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2, err
    assert message in err, err
    assert "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("command", ["firmware", "profile", "report", "image"])
def test_cli_missing_required_arguments(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command])
    assert exc.value.code == 2
    assert "the following arguments are required" in capsys.readouterr().err


# --- real boards: ssh, scp, the power meter, the serial port -------------------------------------

def test_ssh_that_fails(deploy, bin_dir):
    fake_tool(bin_dir, "ssh", stderr="ssh: connect to host pi.local port 22: Connection refused\n", exit_code=255)
    fake_tool(bin_dir, "scp")
    refused(deploy, "rpi4", "board rpi4, host pi@pi.local, variant baseline\\+ptq_int8: could not "
                            "create the remote folder \\(exit 255\\): ssh: connect to host pi.local",
            transport="ssh", ssh={"host": "pi.local", "user": "pi"})


def test_ssh_that_hangs(deploy, bin_dir, monkeypatch):
    monkeypatch.setattr(flashers, "SSH_STEP_TIMEOUT_S", 1)
    fake_tool(bin_dir, "ssh", hang=True)
    refused(deploy, "rpi4", "board rpi4, host pi@pi.local, variant baseline\\+ptq_int8: could not "
                            "create the remote folder: `ssh` gave no answer within 1 s \\(killed\\)",
            transport="ssh", ssh={"host": "pi.local", "user": "pi"})


def test_scp_that_fails(deploy, bin_dir):
    fake_tool(bin_dir, "ssh")
    fake_tool(bin_dir, "scp", stderr="scp: /tmp/tinyeit: Permission denied\n", exit_code=1)
    refused(deploy, "rpi4", "host pi@pi.local, variant baseline\\+ptq_int8: could not copy the "
                            "firmware \\(exit 1\\): scp: /tmp/tinyeit: Permission denied",
            transport="ssh", ssh={"host": "pi.local", "user": "pi"})


def test_scp_that_hangs(deploy, bin_dir, monkeypatch):
    monkeypatch.setattr(flashers, "SSH_STEP_TIMEOUT_S", 1)
    fake_tool(bin_dir, "ssh")
    fake_tool(bin_dir, "scp", hang=True)
    refused(deploy, "rpi4", "could not copy the firmware: `scp` gave no answer within 1 s",
            transport="ssh", ssh={"host": "pi.local", "user": "pi"})


def test_ppk2_that_is_absent(deploy, bin_dir, pty_boards):
    fake_tool(bin_dir, "arduino-cli", stdout="{}\n")
    board = pty_boards(LINES)
    refused(deploy, "nicla_sense", "board nicla_sense: PPK2 on /dev/tinyeit-no-ppk2: ",
            transport="serial", port=board.port,
            power_meter={"type": "ppk2", "port": "/dev/tinyeit-no-ppk2", "voltage_mv": 3000})


def test_ppk2_none_connected(deploy, bin_dir, pty_boards, monkeypatch):
    import serial.tools.list_ports

    monkeypatch.setattr(serial.tools.list_ports, "comports", lambda *a, **k: [])
    fake_tool(bin_dir, "arduino-cli", stdout="{}\n")
    board = pty_boards(LINES)
    refused(deploy, "nicla_sense", "board nicla_sense: power_meter ppk2 configured but no PPK2 is connected",
            transport="serial", port=board.port, power_meter={"type": "ppk2", "port": None})


def test_port_auto_with_no_matching_board(deploy, bin_dir, monkeypatch):
    import serial.tools.list_ports

    other = SimpleNamespace(device="/dev/ttyUSB0", vid=0x1A86, pid=0x7523)
    monkeypatch.setattr(serial.tools.list_ports, "comports", lambda *a, **k: [other])
    fake_tool(bin_dir, "arduino-cli", stdout="{}\n", exit_code=9)
    refused(deploy, "nicla_sense", "board nicla_sense, port auto, variant baseline\\+ptq_int8: no serial "
                                   "port with USB id 2341:8060, 2341:0060; ports seen: /dev/ttyUSB0 "
                                   "\\(1a86:7523\\)", transport="serial", port="auto")
    assert calls(bin_dir, "arduino-cli") == []   # nothing flashed, not even asked


# --- a config that removes a board or a variant ---------------------------------------------------

@pytest.mark.slow
def test_removed_board_leaves_no_stale_report_files(tmp_path):
    data = small_summary()
    assert "rpi4" in data["boards"]
    out = report_workflow(tmp_path, data)
    assert (out / "latency_rpi4.png").is_file()
    title = "Raspberry Pi 4 (rpi4)"   # how the report names the board in its sections
    assert title in (out / "index.html").read_text()
    del data["boards"]["rpi4"]
    data["deployments"] = [d for d in data["deployments"] if d["board"] != "rpi4"]
    out = report_workflow(tmp_path, data)
    assert not (out / "latency_rpi4.png").exists()
    assert sorted(p.name for p in out.glob("latency_*.png")) == [
        f"latency_{b}.png" for b in sorted(data["boards"])]
    page = (out / "index.html").read_text()
    assert "latency_rpi4" not in page and title not in page
    assert "board rpi4 not in this study" in page   # the paper's own rpi4 claim, not checkable now
    assert "rpi4" not in (out / "deployments.csv").read_text()


def test_removed_variant_is_not_summarised(tmp_path):
    """Its old results stay on disk but the summary (and so the report) only reads the config's."""
    from tinyeit import summary

    args = summary_inputs(tmp_path)
    stale = tmp_path / "tflite" / "baseline+kd"
    shutil.copytree(Path(args["variant_dirs"]["baseline"]), stale)
    summary.write(**args)
    written = json.loads(Path(args["out"]).read_text())
    assert [v["name"] for v in written["variants"]] == ["baseline"]
    assert "baseline+kd" not in Path(args["out"]).read_text()
