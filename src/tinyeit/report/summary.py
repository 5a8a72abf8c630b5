"""Read `results/summary.json` (and `results/host_latency.json`) into one checked object, so
every later report step can trust it.

The report is built from these two files alone: summary.json holds the deterministic figures,
host_latency.json the measured host latencies, merged here into each variant's record
(`host_latency_ms`, `host_latency_iqr_ms`, `host_latency_spread`, `host_latency_noisy`, ...).
This module is the only place that knows the files' shape, and it says which key of which
variant or deployment is wrong when a file is bad.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinyeit.errors import TinyEitError

BASELINE = "baseline"
DEPLOY_STATUSES = ("ok", "does_not_fit", "toolchain_unavailable", "unsupported", "failed")

# Fields every variant must carry with a number (the report's tables and plots need them).
VARIANT_NUMBERS = ("tflite_bytes", "accuracy_cv_mean", "accuracy_cv_std")
# Fields that may be null; they are shown as blank/"n/a" when absent.
VARIANT_OPTIONAL = ("params", "nonzero_params", "macs", "keras_bytes", "tflite_gzip_bytes",
                    "accuracy_test", "host_instructions_per_invoke")
# Per variant in host_latency.json: numbers, then the noisy flag (a bool).
HOST_LATENCY_NUMBERS = ("host_latency_ms", "host_latency_iqr_ms", "host_latency_spread",
                        "host_latency_wall_ms", "block_invocations", "repeats")
HOST_LATENCY_FIELDS = HOST_LATENCY_NUMBERS + ("host_latency_noisy",)
DEPLOY_OPTIONAL = ("flash_bytes", "ram_bytes", "arena_bytes", "instructions_per_inference",
                   "cycles_per_inference", "latency_ms", "energy_uj", "weight_bytes",
                   "weight_ram_bytes", "macs_executed")
DEFAULT_BOUNDS = {"max_accuracy_drop": 0.1, "max_latency_ms": None}


class SummaryError(TinyEitError):
    """The summary file is missing, unreadable or lacks what the report needs."""


@dataclass(frozen=True)
class Summary:
    """The study's results: dataset provenance, variants, deployments, boards, report bounds."""

    path: str
    dataset: dict[str, Any]
    variants: list[dict[str, Any]]
    deployments: list[dict[str, Any]] = field(default_factory=list)
    boards: dict[str, dict[str, Any]] = field(default_factory=dict)
    bounds: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_BOUNDS))
    host_latency_method: str | None = None   # how host latencies were measured, when given

    @property
    def variant_names(self) -> list[str]:
        return [v["name"] for v in self.variants]

    @property
    def baseline(self) -> dict[str, Any]:
        return self.variant(BASELINE)

    def variant(self, name: str) -> dict[str, Any]:
        for v in self.variants:
            if v["name"] == name:
                return v
        raise SummaryError(f"{self.path}: no variant named {name!r} "
                           f"(variants: {', '.join(self.variant_names)})")

    def has_variant(self, name: str) -> bool:
        return any(v["name"] == name for v in self.variants)

    @property
    def board_keys(self) -> list[str]:
        """Boards from config first (in config order), then any only seen in deployments."""
        keys = list(self.boards)
        for d in self.deployments:
            if d["board"] not in keys:
                keys.append(d["board"])
        return keys

    def board_name(self, key: str) -> str:
        return str(self.boards.get(key, {}).get("name") or key)

    def board_title(self, key: str) -> str:
        """"Arduino Nicla Sense ME (nicla_sense)", or just the key when it is the name."""
        name = self.board_name(key)
        return key if name == key else f"{name} ({key})"

    def deployment(self, variant: str, board: str, engine: str = "aot") -> dict[str, Any] | None:
        for d in self.deployments:
            if d["variant"] == variant and d["board"] == board and (d.get("engine") or "aot") == engine:
                return d
        return None

    @property
    def engines(self) -> list[str]:
        """The engines deployed, aot first (a summary without `engine` keys is all aot)."""
        seen = {(d.get("engine") or "aot") for d in self.deployments}
        return [e for e in ("aot", "tflm") if e in seen] + sorted(seen - {"aot", "tflm"})

    @property
    def is_synthetic(self) -> bool:
        return str(self.dataset.get("source", "")).lower() == "synthetic"


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _check_number(where: str, obj: dict, key: str, optional: bool) -> None:
    if key not in obj or obj[key] is None:
        if optional:
            return
        raise SummaryError(f"{where}: key {key!r} is missing or null; the report needs a number")
    if not _is_number(obj[key]):
        raise SummaryError(f"{where}: key {key!r} is {obj[key]!r}, expected a finite number")


def merge_host_latency(variants: list[dict], data: Any, path: str) -> str | None:
    """Put each variant's measured host latency (host_latency.json) into its record; returns
    the measurement method. Variants the file does not name keep no host latency."""
    if not isinstance(data, dict) or not isinstance(data.get("variants"), list):
        raise SummaryError(f"{path}: must be an object with a 'variants' list")
    by_name = {v["name"]: v for v in variants}
    methods = []
    for i, rec in enumerate(data["variants"]):
        if not isinstance(rec, dict) or not isinstance(rec.get("name"), str):
            raise SummaryError(f"{path}: variants[{i}] must be an object with a string 'name'")
        where = f"{path}: variant {rec['name']!r}"
        if rec["name"] not in by_name:
            raise SummaryError(f"{where}: not a variant of the summary")
        for key in HOST_LATENCY_NUMBERS:
            _check_number(where, rec, key, optional=False)
        if not isinstance(rec.get("host_latency_noisy"), bool):
            raise SummaryError(f"{where}: key 'host_latency_noisy' must be true or false")
        by_name[rec["name"]].update({k: rec[k] for k in HOST_LATENCY_FIELDS})
        if isinstance(rec.get("method"), str):
            methods.append(rec["method"])
    return "; ".join(sorted(set(methods))) or None


def parse_summary(data: Any, path: str = "summary.json", host_latency: Any = None,
                  host_latency_path: str = "host_latency.json") -> Summary:
    """Check a decoded summary (and host latencies, when given) and wrap them; raise
    SummaryError naming the bad file and key."""
    if not isinstance(data, dict):
        raise SummaryError(f"{path}: top level must be an object, got {type(data).__name__}")
    for key in ("dataset", "variants"):
        if key not in data:
            raise SummaryError(f"{path}: key {key!r} is missing")
    dataset = data["dataset"]
    if not isinstance(dataset, dict):
        raise SummaryError(f"{path}: 'dataset' must be an object")
    variants = data["variants"]
    if not isinstance(variants, list) or not variants:
        raise SummaryError(f"{path}: 'variants' must be a non-empty list")
    seen: set[str] = set()
    for i, v in enumerate(variants):
        if not isinstance(v, dict) or not isinstance(v.get("name"), str):
            raise SummaryError(f"{path}: variants[{i}] must be an object with a string 'name'")
        where = f"{path}: variant {v['name']!r}"
        if v["name"] in seen:
            raise SummaryError(f"{where}: appears twice in 'variants'")
        seen.add(v["name"])
        for key in VARIANT_NUMBERS:
            _check_number(where, v, key, optional=False)
        for key in VARIANT_OPTIONAL:
            _check_number(where, v, key, optional=True)
    if BASELINE not in seen:
        raise SummaryError(f"{path}: no variant named {BASELINE!r}; gains are relative to it")

    deployments = data.get("deployments") or []
    if not isinstance(deployments, list):
        raise SummaryError(f"{path}: 'deployments' must be a list")
    pairs: set[tuple[str, str, str]] = set()
    for i, d in enumerate(deployments):
        if not isinstance(d, dict) or not isinstance(d.get("variant"), str) \
                or not isinstance(d.get("board"), str):
            raise SummaryError(f"{path}: deployments[{i}] needs string 'variant' and 'board'")
        engine = (d.get("engine") or "aot")
        where = f"{path}: deployment of {d['variant']!r} on board {d['board']!r} (engine {engine})"
        if d["variant"] not in seen:
            raise SummaryError(f"{where}: variant is not in 'variants'")
        if (d["variant"], d["board"], engine) in pairs:
            raise SummaryError(f"{where}: appears twice in 'deployments'")
        pairs.add((d["variant"], d["board"], engine))
        if d.get("status") not in DEPLOY_STATUSES:
            raise SummaryError(f"{where}: status {d.get('status')!r} is not one of "
                               f"{', '.join(DEPLOY_STATUSES)}")
        for key in DEPLOY_OPTIONAL:
            _check_number(where, d, key, optional=True)

    boards = data.get("boards") or {}
    if not isinstance(boards, dict) or not all(isinstance(b, dict) for b in boards.values()):
        raise SummaryError(f"{path}: 'boards' must map board keys to objects")
    for key, b in boards.items():
        for num in ("flash_bytes", "ram_bytes", "clock_hz"):
            _check_number(f"{path}: board {key!r}", b, num, optional=True)

    bounds = dict(DEFAULT_BOUNDS)
    report = data.get("report") or {}
    if not isinstance(report, dict):
        raise SummaryError(f"{path}: 'report' must be an object")
    for key in DEFAULT_BOUNDS:
        if key in report:
            _check_number(f"{path}: report", report, key, optional=True)
            bounds[key] = report[key]
    method = None
    if host_latency is not None:
        method = merge_host_latency(variants, host_latency, host_latency_path)
    return Summary(path=path, dataset=dataset, variants=variants, deployments=deployments,
                   boards=boards, bounds=bounds, host_latency_method=method)


def _read(path: Path, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SummaryError(f"{path}: cannot read the {what} ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise SummaryError(f"{path}: not valid JSON (not UTF-8 text: {exc.reason} at byte "
                           f"{exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SummaryError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc


def load_summary(path: str | Path, host_latency_path: str | Path | None = None) -> Summary:
    """Read and check a summary.json file, and the host latencies when a file is given."""
    path = Path(path)
    data = _read(path, "summary")
    latency = None if host_latency_path is None else _read(Path(host_latency_path),
                                                          "host latencies")
    return parse_summary(data, str(path), latency, str(host_latency_path))
