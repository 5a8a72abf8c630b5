"""The study in two files: results/summary.json and results/host_latency.json, the report's inputs.

They gather what the earlier stages wrote per variant and per board (each stage keeps its own
small JSON beside its artifact) into the contract the report and users read. Nothing here
computes a metric; it only collects, so every figure has one source.

summary.json holds deterministic figures only (a rebuild gives the same bytes); the host
latency, a wall-clock measurement that a busy machine moves, is collected apart into
host_latency.json.
"""
from __future__ import annotations

from pathlib import Path

from tinyeit import atomic
from tinyeit.atomic import write_json
from tinyeit.config import chains
from tinyeit.errors import TinyEitError

VARIANT_KEYS = ("params", "nonzero_params", "macs", "keras_bytes", "tflite_bytes",
                "tflite_gzip_bytes", "accuracy_cv_mean", "accuracy_cv_std", "accuracy_test",
                "host_instructions_per_invoke")
HOST_LATENCY_KEYS = ("host_latency_ms", "host_latency_iqr_ms", "host_latency_spread",
                     "host_latency_noisy", "host_latency_wall_ms", "host_latency_wall_iqr_ms",
                     "attempts")
TIMING_KEYS = ("block_invocations", "repeats", "min_block_ms", "spread_limit")
DEPLOYMENT_KEYS = ("variant", "board", "engine", "transport", "status", "flash_bytes", "ram_bytes",
                   "arena_bytes", "instructions_per_inference", "cycles_per_inference",
                   "latency_ms", "latency_is_estimate", "latency_method", "energy_uj",
                   "energy_is_estimate", "outputs_match_host", "firmware_sha256")
DEPLOYMENT_STATUSES = ("ok", "does_not_fit", "toolchain_unavailable", "unsupported", "failed")
BOARD_KEYS = ("alias", "family", "clock_hz", "flash_bytes", "ram_bytes", "active_power_mw",
              "power_source", "transport")


def read_json(path: str | Path) -> dict:
    return atomic.read_json(path, "the stage that writes it has not run")


def _require(record: dict, keys: tuple[str, ...], where: str) -> None:
    missing = [k for k in keys if k not in record]
    if missing:
        raise TinyEitError(f"{where}: missing key(s) {', '.join(missing)}")


def variant_record(name: str, metrics_path: str, accuracy_path: str, tflite_path: str,
                   instructions_path: str) -> dict:
    merged = {**read_json(metrics_path), **read_json(accuracy_path),
              **read_json(instructions_path)}
    _require(merged, VARIANT_KEYS,
             f"variant '{name}' ({metrics_path}, {accuracy_path}, {instructions_path})")
    record = {"name": name, "steps": chains.steps(name)}
    record.update({k: merged[k] for k in VARIANT_KEYS})
    record["tflite"] = Path(tflite_path).as_posix()
    return record


def deployment_record(path: str) -> dict:
    record = read_json(path)
    _require(record, DEPLOYMENT_KEYS, str(path))
    if record["status"] not in DEPLOYMENT_STATUSES:
        raise TinyEitError(f"{path}: status '{record['status']}' is not one of "
                           f"{', '.join(DEPLOYMENT_STATUSES)}")
    return record


def build(config: dict, dataset_json: str, variants: list[dict], deployment_paths: list[str]) -> dict:
    """variants: [{"name", "metrics", "accuracy", "tflite", "instructions"}] paths per variant,
    in study order."""
    provenance = read_json(dataset_json)
    _require(provenance, ("source", "n_frames", "n_features", "n_classes", "npz_sha256"), dataset_json)
    deployments = [deployment_record(p) for p in deployment_paths]
    deployments.sort(key=lambda d: (d["board"], d["variant"], d["engine"]))
    return {
        "dataset": {**{k: provenance[k] for k in ("source", "n_frames", "n_features", "n_classes")},
                    "sha256": provenance["npz_sha256"]},
        "variants": [variant_record(v["name"], v["metrics"], v["accuracy"], v["tflite"],
                                    v["instructions"]) for v in variants],
        "deployments": deployments,
        "boards": {key: {"name": b.get("name", key), **{k: b.get(k) for k in BOARD_KEYS}}
                   for key, b in sorted(config["boards"].items())},
        "report": dict(config.get("report") or {"max_accuracy_drop": 0.1, "max_latency_ms": None}),
    }


def write(config: dict, dataset_json: str, variant_dirs: dict[str, str],
          deployment_paths: list[str], out: str) -> None:
    """variant_dirs: variant name -> its results/tflite/<variant> folder."""
    variants = [{"name": name, "metrics": f"{d}/metrics.json", "accuracy": f"{d}/accuracy.json",
                 "tflite": f"{d}/model.tflite", "instructions": f"{d}/host_instructions.json"}
                for name, d in variant_dirs.items()]
    write_json(out, build(config, dataset_json, variants, deployment_paths))


def host_latency_record(name: str, path: str) -> dict:
    record = read_json(path)
    _require(record, HOST_LATENCY_KEYS + ("timing", "interpreter"), f"variant '{name}' ({path})")
    _require(record["timing"], TIMING_KEYS, f"variant '{name}' ({path}: timing)")
    return {"name": name, **{k: record[k] for k in HOST_LATENCY_KEYS},
            **{k: record["timing"][k] for k in TIMING_KEYS},
            "interpreter": record["interpreter"], "method": record["timing"]["method"]}


def build_host_latency(variant_paths: dict[str, str]) -> dict:
    """variant_paths: variant name -> its host_latency.json, in study order."""
    return {"measured": "wall-clock measurement on this machine: a re-run gives other figures",
            "variants": [host_latency_record(n, p) for n, p in variant_paths.items()]}


def write_host_latency(variant_dirs: dict[str, str], out: str) -> None:
    """variant_dirs: variant name -> its results/tflite/<variant> folder."""
    write_json(out, build_host_latency({n: f"{d}/host_latency.json"
                                        for n, d in variant_dirs.items()}))
