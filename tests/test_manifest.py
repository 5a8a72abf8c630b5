"""The manifest of deterministic artifacts, and `tinyeit verify` against it."""
from __future__ import annotations

import hashlib
import re
import shutil
import subprocess

import pytest

from tinyeit import manifest
from tinyeit.cli import main
from tinyeit.manifest import Difference, ManifestError


def _results(root):
    files = {
        "dataset/dataset.npz": b"frames",
        "tflite/baseline/model.tflite": b"TFL3 model",
        "tflite/baseline/host_latency.json": b'{"host_latency_ms": 0.01}\n',
        "tflite/baseline+kd/accuracy.json": b'{"accuracy_test": 0.5}\n',
        "firmware/rpi4/baseline/build.json": b"{}\n",
        "host_latency.json": b'{"variants": [{"host_latency_ms": 0.01}]}\n',
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def test_collect_hashes_every_artifact_but_the_measured_ones(tmp_path):
    results = _results(tmp_path / "results")
    hashes = manifest.collect(results)
    assert list(hashes) == ["dataset/dataset.npz", "firmware/rpi4/baseline/build.json",
                            "tflite/baseline+kd/accuracy.json", "tflite/baseline/model.tflite"]
    assert hashes["dataset/dataset.npz"] == hashlib.sha256(b"frames").hexdigest()


def test_measured_patterns_match_paths_relative_to_results():
    assert manifest.is_measured("tflite/baseline+kd+fp+ptq_int8/host_latency.json")
    assert manifest.is_measured("host_latency.json") and manifest.is_measured("report/index.html")
    assert not manifest.is_measured("tflite/baseline+kd+fp+ptq_int8/metrics.json")
    assert not manifest.is_measured("tflite/baseline/host_instructions.json")
    assert not manifest.is_measured("summary.json")
    assert not manifest.is_measured("tflite/baseline/accuracy.json")
    assert not manifest.is_measured("deploy/rpi4/baseline/profile.json")


def test_written_manifest_is_sha256sum_format_sorted_and_checks_with_sha256sum(tmp_path):
    results = _results(tmp_path / "results")
    path = manifest.write(results)
    assert path == results / "MANIFEST.sha256"
    lines = path.read_text().splitlines()
    assert [line.split("  ", 1)[1] for line in lines] == sorted(line.split("  ", 1)[1] for line in lines)
    assert lines[0] == f"{hashlib.sha256(b'frames').hexdigest()}  dataset/dataset.npz"
    assert "MANIFEST.sha256" not in manifest.collect(results)  # never lists itself
    if shutil.which("sha256sum"):
        subprocess.run(["sha256sum", "--check", "--quiet", "MANIFEST.sha256"], cwd=results, check=True,
                       timeout=60)


def test_compare_lists_changed_missing_and_extra(tmp_path):
    results = _results(tmp_path / "results")
    path = manifest.write(results, tmp_path / "first.sha256")
    assert manifest.compare(path, results) == []
    (results / "dataset/dataset.npz").write_bytes(b"other frames")
    (results / "tflite/baseline/model.tflite").unlink()
    (results / "deploy").mkdir()
    (results / "deploy/new.json").write_bytes(b"{}")
    (results / "tflite/baseline/host_latency.json").write_bytes(b'{"host_latency_ms": 9}\n')
    diffs = manifest.compare(path, results)
    assert [(d.kind, d.path) for d in diffs] == [("changed", "dataset/dataset.npz"),
                                                 ("extra", "deploy/new.json"),
                                                 ("missing", "tflite/baseline/model.tflite")]
    assert diffs[0].expected == hashlib.sha256(b"frames").hexdigest()
    assert diffs[0].actual == hashlib.sha256(b"other frames").hexdigest()
    assert diffs[1] == Difference("extra", "deploy/new.json", None, hashlib.sha256(b"{}").hexdigest())


@pytest.mark.parametrize("text, message", [
    ("", "lists no file"),
    ("not a manifest\n", ":1: not a '<sha256>  <path>' line"),
    (f"{'a' * 63}  x\n", ":1: not a"),
    (f"{'a' * 64}  x\n{'b' * 64}  x\n", ":2: x is listed twice"),
])
def test_corrupt_manifest_is_a_clear_error(tmp_path, text, message):
    path = tmp_path / "MANIFEST.sha256"
    path.write_text(text)
    with pytest.raises(ManifestError, match=re.escape(message)) as info:
        manifest.compare(path, _results(tmp_path / "results"))
    assert str(path) in str(info.value)


def test_missing_manifest_or_results_is_a_clear_error(tmp_path):
    with pytest.raises(ManifestError, match="no manifest there"):
        manifest.read(tmp_path / "absent.sha256")
    with pytest.raises(ManifestError, match="no results folder"):
        manifest.collect(tmp_path / "absent")


def test_binary_manifest_is_a_clear_error(tmp_path):
    path = tmp_path / "MANIFEST.sha256"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ManifestError, match="not a sha256sum manifest"):
        manifest.read(path)


def test_verify_command_exit_codes_and_listing(tmp_path, capsys):
    results = _results(tmp_path / "results")
    assert main(["manifest", "--results", str(results)]) == 0
    saved = tmp_path / "first.sha256"
    shutil.copy(results / "MANIFEST.sha256", saved)
    assert main(["verify", str(saved), "--results", str(results)]) == 0
    assert "identical (4 files)" in capsys.readouterr().out
    (results / "firmware/rpi4/baseline/build.json").write_bytes(b'{"flash": 1}\n')
    assert main(["verify", str(saved), "--results", str(results)]) == 1
    captured = capsys.readouterr()
    assert "changed  firmware/rpi4/baseline/build.json" in captured.out
    assert "1 changed" in captured.err
    assert main(["verify", str(tmp_path / "nothing.sha256"), "--results", str(results)]) == 2
    assert "no manifest there" in capsys.readouterr().err
    (results / "firmware/rpi4/baseline/build.json").write_bytes(b"{}\n")
    (results / "MANIFEST.sha256").unlink()
    assert main(["verify", str(saved), "--results", str(results)]) == 0  # the manifest is no artifact
