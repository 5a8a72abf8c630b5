"""summary.json gathers every stage's figures into one contract, or says which file is wrong."""
import json

import pytest

from tinyeit import summary
from tinyeit.errors import TinyEitError

METRICS = {"params": 100, "nonzero_params": 90, "macs": 1000, "keras_bytes": 5000,
           "tflite_bytes": 2000, "tflite_gzip_bytes": 1500}
INSTRUCTIONS = {"host_instructions_per_invoke": 54132, "first_invoke_instructions": 55596,
                "per_invoke": [55596, 54132, 54132, 54132], "interpreter": "LiteRT default"}
LATENCY = {"host_latency_ms": 0.0042, "host_latency_iqr_ms": 0.0001, "host_latency_spread": 0.024,
           "host_latency_noisy": False, "host_latency_wall_ms": 0.0043,
           "host_latency_wall_iqr_ms": 0.0002, "attempts": 1, "interpreter": "LiteRT default",
           "timing": {"block_invocations": 500, "repeats": 41, "min_block_ms": 2.0,
                      "spread_limit": 0.2, "method": "median and IQR over 41 blocks"}}
ACCURACY = {"accuracy_cv_mean": 0.8, "accuracy_cv_std": 0.02, "accuracy_test": 0.79,
            "fold_accuracy": [0.78, 0.82]}
CONFIG = {"boards": {"nicla_sense": {"alias": "nicla", "family": "cortex_m4f", "clock_hz": 64000000,
                                     "flash_bytes": 524288, "ram_bytes": 65536,
                                     "active_power_mw": 11.1, "power_source": "datasheet",
                                     "transport": "emulator"}},
          "report": {"max_accuracy_drop": 0.05, "max_latency_ms": None}}


def _write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return str(path)


def _study(tmp_path, deployment=None):
    ds = _write(tmp_path / "dataset.json", {"source": "synthetic", "n_frames": 800, "n_features": 40,
                                             "n_classes": 10, "npz_sha256": "ab" * 32, "extra": 1})
    vdir = tmp_path / "tflite" / "baseline+ptq_int8"
    _write(vdir / "metrics.json", METRICS)
    _write(vdir / "accuracy.json", ACCURACY)
    _write(vdir / "host_instructions.json", INSTRUCTIONS)
    _write(vdir / "host_latency.json", LATENCY)
    deployments = []
    if deployment is not None:
        deployments.append(_write(tmp_path / "profile.json", deployment))
    return ds, {"baseline+ptq_int8": str(vdir)}, deployments


def test_summary_follows_the_contract(tmp_path):
    deployment = {k: None for k in summary.DEPLOYMENT_KEYS}
    deployment.update(variant="baseline+ptq_int8", board="nicla_sense", transport="emulator",
                      status="ok", instructions_per_inference=12345)
    ds, dirs, deps = _study(tmp_path, deployment)
    out = tmp_path / "results" / "summary.json"
    summary.write(CONFIG, ds, dirs, deps, out)
    data = json.loads(out.read_text())
    assert set(data) == {"dataset", "variants", "deployments", "boards", "report"}
    assert set(data["dataset"]) == {"source", "n_frames", "n_features", "n_classes", "sha256"}
    (variant,) = data["variants"]
    assert variant["name"] == "baseline+ptq_int8" and variant["steps"] == ["baseline", "ptq_int8"]
    assert variant["accuracy_cv_mean"] == 0.8 and variant["tflite_bytes"] == 2000
    assert variant["host_instructions_per_invoke"] == 54132
    assert not [k for k in variant if "latency" in k]   # wall-clock figures live apart
    assert variant["tflite"].endswith("baseline+ptq_int8/model.tflite")
    assert data["deployments"][0]["instructions_per_inference"] == 12345
    assert data["boards"]["nicla_sense"]["ram_bytes"] == 65536
    first = out.read_bytes()
    summary.write(CONFIG, ds, dirs, deps, out)
    assert out.read_bytes() == first


def test_missing_metric_names_the_variant_and_file(tmp_path):
    ds, dirs, deps = _study(tmp_path)
    metrics = tmp_path / "tflite" / "baseline+ptq_int8" / "metrics.json"
    metrics.write_text(json.dumps({k: v for k, v in METRICS.items() if k != "macs"}))
    out = tmp_path / "summary.json"
    with pytest.raises(TinyEitError, match=r"variant 'baseline\+ptq_int8'.*missing key\(s\) macs"):
        summary.write(CONFIG, ds, dirs, deps, out)
    assert not out.exists()


def test_bad_deployment_status_is_refused(tmp_path):
    deployment = {k: None for k in summary.DEPLOYMENT_KEYS}
    deployment.update(status="exploded")
    ds, dirs, deps = _study(tmp_path, deployment)
    with pytest.raises(TinyEitError, match="profile.json: status 'exploded'"):
        summary.write(CONFIG, ds, dirs, deps, tmp_path / "summary.json")


def test_unreadable_inputs_name_the_file(tmp_path):
    with pytest.raises(TinyEitError, match="absent.json: missing"):
        summary.read_json(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(TinyEitError, match="bad.json: not valid JSON"):
        summary.read_json(bad)


def test_host_latency_is_collected_apart(tmp_path):
    _, dirs, _ = _study(tmp_path)
    out = tmp_path / "results" / "host_latency.json"
    summary.write_host_latency(dirs, str(out))
    data = json.loads(out.read_text())
    (v,) = data["variants"]
    assert v["name"] == "baseline+ptq_int8" and v["host_latency_ms"] == 0.0042
    assert v["host_latency_noisy"] is False and v["block_invocations"] == 500
    assert v["repeats"] == 41 and v["method"].startswith("median and IQR over 41 blocks")


def test_host_latency_without_its_timing_record_names_the_file(tmp_path):
    _, dirs, _ = _study(tmp_path)
    path = tmp_path / "tflite" / "baseline+ptq_int8" / "host_latency.json"
    path.write_text(json.dumps({k: v for k, v in LATENCY.items() if k != "host_latency_iqr_ms"}))
    out = tmp_path / "host_latency.json"
    with pytest.raises(TinyEitError, match=r"host_latency.json\): missing key\(s\) "
                                           r"host_latency_iqr_ms"):
        summary.write_host_latency(dirs, str(out))
    assert not out.exists()


def test_missing_instruction_count_names_its_file(tmp_path):
    ds, dirs, deps = _study(tmp_path)
    (tmp_path / "tflite" / "baseline+ptq_int8" / "host_instructions.json").unlink()
    with pytest.raises(TinyEitError, match="host_instructions.json: missing"):
        summary.write(CONFIG, ds, dirs, deps, tmp_path / "summary.json")
