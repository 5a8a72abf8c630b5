"""Host latency (real LiteRT, block timing) and host instructions (real valgrind/callgrind) of
study-like .tflite files: the records' shape, exactness of the count, and clear errors."""
from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from tinyeit import cli  # noqa: E402
from tinyeit.errors import TinyEitError  # noqa: E402
from tinyeit.export import host_instructions, host_latency, timing  # noqa: E402


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A float and an int8 study-like model, each with a frames.npz as the export writes it."""
    from tinyeit.codegen import sample_models as sm

    root = tmp_path_factory.mktemp("hostcost")
    out = {}
    for mode in ("float", "ptq_int8"):
        path = sm.write_study_like(str(root / mode), mode)
        x = np.random.default_rng(1).normal(size=(3, 40)).astype(np.float32)
        if mode == "ptq_int8":
            x = np.clip(np.round(x * 20), -128, 127).astype(np.int8)
        np.savez(root / mode / "frames.npz", input=x)
        out[mode] = (path, str(root / mode / "frames.npz"))
    return out


@pytest.mark.slow
def test_host_latency_record(models, tmp_path):
    path, frames = models["ptq_int8"]
    out = tmp_path / "host_latency.json"
    assert cli.main(["host-latency", "--variant", "v+ptq_int8", path, frames, str(out)]) == 0
    r = json.loads(out.read_text())
    t = r["timing"]
    assert r["variant"] == "v+ptq_int8" and "XNNPACK" in r["interpreter"]
    assert r["host_latency_ms"] == t["cpu"]["median_ms"] > 0
    assert r["host_latency_iqr_ms"] == pytest.approx(t["cpu"]["q3_ms"] - t["cpu"]["q1_ms"])
    assert r["host_latency_noisy"] == (r["host_latency_spread"] > timing.SPREAD_LIMIT)
    assert t["repeats"] == timing.REPEATS == len(t["blocks_cpu_ms"]) == len(t["blocks_wall_ms"])
    assert t["block_invocations"] > 1        # microsecond calls are timed in blocks
    assert t["block_invocations"] * t["cpu"]["max_ms"] >= 1.0   # blocks of about 2 ms
    assert 1 <= r["attempts"] <= host_latency.ATTEMPTS


@pytest.mark.slow
def test_instruction_count_is_exact_and_repeatable(models, tmp_path):
    """Two callgrind runs, the model at two different paths: the same bytes."""
    path, frames = models["ptq_int8"]
    records = []
    for i in (1, 2):
        copy = tmp_path / f"run{i}-{'x' * i}" / "model.tflite"
        copy.parent.mkdir()
        shutil.copy(path, copy)
        out = tmp_path / f"instructions{i}.json"
        assert cli.main(["host-instructions", "--variant", "v", str(copy), frames,
                         str(out)]) == 0
        records.append(out.read_bytes())
    assert records[0] == records[1]
    r = json.loads(records[0])
    counts = r["per_invoke"]
    assert len(counts) == 1 + host_instructions.INVOCATIONS
    assert len(set(counts[1:])) == 1 and counts[1] == r["host_instructions_per_invoke"]
    assert r["first_invoke_instructions"] == counts[0] >= counts[1]
    # A study-like int8 model: tens of thousands of instructions, far below a Python start-up.
    assert 10_000 < r["host_instructions_per_invoke"] < 5_000_000
    assert "callgrind" in r["counter"] and "XNNPACK" in r["interpreter"]


@pytest.mark.slow
def test_instruction_count_follows_the_model(models):
    """The float model costs another number of instructions than the int8 one, and
    LiteRT's reference kernels (BUILTIN_REF) cost more than the optimized ones."""
    counts = {mode: host_instructions.per_invoke(*models[mode])[-1] for mode in models}
    assert counts["float"] != counts["ptq_int8"]
    ref = host_instructions.per_invoke(*models["ptq_int8"], reference=True)[-1]
    assert ref > counts["ptq_int8"]


def test_missing_valgrind_is_named(models, monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    out = tmp_path / "i.json"
    with pytest.raises(TinyEitError, match="valgrind .*not found on PATH.*debian-packages.txt"):
        host_instructions.write(*models["ptq_int8"], "v", str(out))
    assert not out.exists()


def test_frames_without_input_are_refused(models, tmp_path):
    np.savez(tmp_path / "frames.npz", output=np.zeros((2, 4)))
    out = tmp_path / "l.json"
    with pytest.raises(TinyEitError, match="frames.npz: cannot read the 'input' frames"):
        host_latency.write(models["float"][0], str(tmp_path / "frames.npz"), "v", str(out))
    assert not out.exists()


def test_frame_of_the_wrong_size_is_refused(models, tmp_path):
    np.savez(tmp_path / "frames.npz", input=np.zeros((2, 7), np.float32))
    with pytest.raises(TinyEitError, match="frame of 7 values does not fit the model's input"):
        host_latency.measure(models["float"][0], tmp_path / "frames.npz", "v")
