"""The report's tables, built once and written both as CSV (raw numbers) and as HTML (formatted).

A table is a list of columns (machine key, human header with unit, formatter) and rows of raw
values; the CSV keeps the summary's units (bytes, fractions, ms) so it can be re-analysed, the
HTML shows what a reader compares (kB, percent).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tinyeit.report import paper
from tinyeit.report.analysis import (accuracy_drop, board_cost, board_gains, engine_cost, gain_pct,
                                     host_gains, ratio, size_pareto)
from tinyeit.report.summary import Summary

NOT_PROFILED = "not profiled"


# ---- formatting -------------------------------------------------------------------------------
def fmt_text(x: Any) -> str:
    return "" if x is None else str(x)


def fmt_int(x: Any) -> str:
    return "" if x is None else f"{int(round(x)):,}"


def fmt_kb(x: Any) -> str:
    return "" if x is None else f"{x / 1000:.2f}"


def fmt_pct_of_fraction(x: Any) -> str:
    return "" if x is None else f"{100 * x:.2f}"


def fmt_gain(x: Any) -> str:
    return "" if x is None else f"{x:+.1f}"


def fmt_float(x: Any) -> str:
    return "" if x is None else f"{x:.4g}"


def fmt_bool(x: Any) -> str:
    return "" if x is None else ("yes" if x else "no")


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    fmt: Callable[[Any], str] = fmt_text
    text: bool = False          # left-aligned even with a formatter

    @property
    def numeric(self) -> bool:
        return not self.text and self.fmt is not fmt_text


@dataclass
class Table:
    name: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)

    def formatted(self) -> list[list[str]]:
        return [[c.fmt(row.get(c.key)) for c in self.columns] for row in self.rows]

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([c.key for c in self.columns])
        for row in self.rows:
            writer.writerow([csv_value(row.get(c.key)) for c in self.columns])
        return out.getvalue()


def csv_value(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, (list, tuple)):
        return "+".join(str(i) for i in x)
    return str(x)


# ---- the tables -------------------------------------------------------------------------------
def variants_table(summary: Summary) -> Table:
    """Every variant's own figures, its gains against the baseline, and Pareto membership."""
    base = summary.baseline
    front = set(size_pareto(summary))
    rows = []
    for v in summary.variants:
        rows.append({
            **{k: v.get(k) for k in ("name", "steps", "params", "nonzero_params", "macs",
                                     "keras_bytes", "tflite_bytes", "tflite_gzip_bytes",
                                     "accuracy_cv_mean", "accuracy_cv_std", "accuracy_test",
                                     "host_instructions_per_invoke", "host_latency_ms",
                                     "host_latency_iqr_ms")},
            **aot_weights(summary, v["name"]),
            "size_gain_pct": gain_pct(v["tflite_bytes"], base["tflite_bytes"]),
            "accuracy_drop_points": 100 * accuracy_drop(summary, v),
            **host_gains(summary, v),
            "host_latency_noisy": v.get("host_latency_noisy"),
            "pareto_size_accuracy": v["name"] in front,
        })
    cols = [
        Column("name", "variant"), Column("params", "params", fmt_int),
        Column("nonzero_params", "nonzero params", fmt_int), Column("macs", "MACs", fmt_int),
        Column("keras_bytes", "Keras file (kB)", fmt_kb),
        Column("tflite_bytes", ".tflite (kB)", fmt_kb),
        Column("tflite_gzip_bytes", ".tflite gzip (kB)", fmt_kb),
        Column("weight_bytes", "C weights in flash (kB)", fmt_kb),
        Column("weight_format", "C weight format"),
        Column("macs_executed", "C MACs executed", fmt_int),
        Column("accuracy_cv_mean", "CV accuracy (%)", fmt_pct_of_fraction),
        Column("accuracy_cv_std", "CV std (%)", fmt_pct_of_fraction),
        Column("accuracy_test", "test accuracy (%)", fmt_pct_of_fraction),
        Column("host_instructions_per_invoke", "host instructions / invoke", fmt_int),
        Column("host_latency_ms", "host latency (ms, median CPU time)", fmt_float),
        Column("host_latency_iqr_ms", "host latency IQR (ms)", fmt_float),
        Column("host_latency_noisy", "host latency noisy", fmt_bool),
        Column("size_gain_pct", ".tflite size gain (%)", fmt_gain),
        Column("accuracy_drop_points", "accuracy drop (points)",
               lambda x: "" if x is None else f"{x:.2f}"),
        Column("host_instructions_gain_pct", "host instructions gain (%)", fmt_gain),
        Column("host_latency_gain_pct", "host latency gain (%)", fmt_gain),
        Column("pareto_size_accuracy", "Pareto (size/accuracy)", fmt_bool),
    ]
    steps_col = Column("steps", "steps", lambda s: "" if s is None else csv_value(s), text=True)
    return Table("variants", "Variants", [cols[0], steps_col, *cols[1:]], rows, notes=[
        "kB = 1000 bytes. Accuracy: mean and standard deviation over the cross-validation "
        "folds; test accuracy on the held-out trials. Gains are percent change against the "
        "baseline (negative = smaller or faster); accuracy drop in percentage points "
        "(positive = less accurate). C weights: the conv and fully connected weights as the "
        "generated C stores them in flash (indices and tables of sparse and codebook formats "
        "included), the storage format(s) it chose, and the multiply-accumulates its kernels "
        "execute per inference (MACs: the dense count).", host_note(summary)])


def aot_weights(summary: Summary, name: str) -> dict[str, Any]:
    """The generated C's weight figures of a variant (the same C on every board): from its first
    aot deployment that has them, else blank."""
    for dep in summary.deployments:
        if dep.get("variant") == name and (dep.get("engine") or "aot") == "aot" \
                and dep.get("weight_bytes") is not None:
            return {k: dep.get(k) for k in ("weight_bytes", "weight_format", "macs_executed")}
    return {"weight_bytes": None, "weight_format": None, "macs_executed": None}


def host_note(summary: Summary) -> str:
    """How the host figures were obtained, for the notes under the tables."""
    method = summary.host_latency_method or "not measured (no host latency file)"
    return ("Host: LiteRT's default kernels (XNNPACK), one thread, on the first test frame. "
            "Instructions per invoke() are counted by callgrind inside LiteRT's invoke, exact "
            f"and repeatable. Host latency: {method}; no gain is computed from a noisy "
            "measurement (its own or the baseline's).")


DEPLOY_FIELDS = ("transport", "status", "flash_bytes", "ram_bytes", "arena_bytes",
                 "weight_bytes", "weight_ram_bytes", "weight_format", "macs_executed",
                 "instructions_per_inference", "cycles_per_inference", "latency_ms",
                 "latency_is_estimate", "latency_method", "energy_uj", "energy_is_estimate",
                 "outputs_match_host", "firmware_sha256")


def deployments_table(summary: Summary) -> Table:
    """One row per variant, board and engine; pairs the deploy stage did not run say "not profiled"."""
    rows = []
    for board in summary.board_keys:
        for engine in summary.engines or ["aot"]:
            for name in summary.variant_names:
                dep = summary.deployment(name, board, engine)
                row = {"variant": name, "board": board, "engine": engine}
                if dep is None:
                    row["status"] = NOT_PROFILED
                else:
                    row.update({k: dep.get(k) for k in DEPLOY_FIELDS})
                row.update(board_gains(summary, name, board, engine))
                rows.append(row)
    cols = [Column("variant", "variant"), Column("board", "board"), Column("engine", "engine"),
            Column("transport", "transport"), Column("status", "status"),
            Column("flash_bytes", "flash (kB)", fmt_kb), Column("ram_bytes", "RAM (kB)", fmt_kb),
            Column("arena_bytes", "arena (kB)", fmt_kb),
            Column("weight_bytes", "weights in flash (kB)", fmt_kb),
            Column("weight_ram_bytes", "weights in RAM (kB)", fmt_kb),
            Column("weight_format", "weight format"),
            Column("macs_executed", "MACs executed", fmt_int),
            Column("instructions_per_inference", "instructions / inference", fmt_int),
            Column("cycles_per_inference", "cycles / inference", fmt_int),
            Column("latency_ms", "latency (ms)", fmt_float),
            Column("latency_is_estimate", "latency estimated", fmt_bool),
            Column("latency_method", "latency method"),
            Column("energy_uj", "energy (uJ)", fmt_float),
            Column("energy_is_estimate", "energy estimated", fmt_bool),
            Column("outputs_match_host", "outputs match LiteRT", fmt_bool),
            Column("latency_gain_pct", "latency gain (%)", fmt_gain),
            Column("energy_gain_pct", "energy gain (%)", fmt_gain),
            Column("firmware_sha256", "firmware sha256", lambda s: "" if not s else s[:12],
                   text=True)]
    return Table("deployments", "Deployments", cols, rows, notes=[
        "Latency gain compares latency (or instructions when no latency) per inference with "
        "the baseline on the same board. Estimated latencies come from emulation: on the "
        "Cortex-M4F boards, cycles from a model of the Cortex-M4 TRM's instruction timings at "
        "the board's clock; on the rpi4 (out of order, no cycle model), instructions at an "
        "assumed IPC (the latency method column names it); estimated energies are datasheet "
        "active power times latency."])


ENGINE_FIELDS = ("status", "instructions_per_inference", "cycles_per_inference", "flash_bytes", "ram_bytes",
                 "ram_static_bytes", "arena_bytes", "outputs_match_host", "outputs_exact",
                 "outputs_max_abs_diff", "outputs_exact_tflm_interpreter")


def engines_table(summary: Summary) -> Table:
    """aot against tflm per board and variant: cost, flash, RAM, exactness, and the ratios."""
    rows = []
    for board in summary.board_keys:
        for name in summary.variant_names:
            aot, tflm = summary.deployment(name, board, "aot"), summary.deployment(name, board, "tflm")
            if aot is None and tflm is None:
                continue
            row = {"board": board, "variant": name}
            for engine, dep in (("aot", aot), ("tflm", tflm)):
                for key in ENGINE_FIELDS:
                    row[f"{engine}_{key}"] = (dep or {}).get(key) if dep else (NOT_PROFILED if key == "status"
                                                                             else None)
            (a_cost, a_kind), (t_cost, t_kind) = engine_cost(aot), engine_cost(tflm)
            row["cost_kind"] = a_kind if a_kind == t_kind else None
            row["cost_ratio"] = ratio(a_cost, t_cost) if a_kind == t_kind else None
            ok = (aot or {}).get("status") == "ok" and (tflm or {}).get("status") == "ok"
            row["flash_ratio"] = ratio(aot.get("flash_bytes"), tflm.get("flash_bytes")) if ok else None
            row["ram_ratio"] = ratio(aot.get("ram_bytes"), tflm.get("ram_bytes")) if ok else None
            rows.append(row)
    cols = [Column("board", "board"), Column("variant", "variant")]
    for engine in ("aot", "tflm"):
        cols += [Column(f"{engine}_status", f"{engine} status"),
                 Column(f"{engine}_cycles_per_inference", f"{engine} cycles", fmt_int),
                 Column(f"{engine}_instructions_per_inference", f"{engine} instructions", fmt_int),
                 Column(f"{engine}_flash_bytes", f"{engine} flash (kB)", fmt_kb),
                 Column(f"{engine}_ram_bytes", f"{engine} RAM (kB)", fmt_kb),
                 Column(f"{engine}_arena_bytes", f"{engine} arena (kB)", fmt_kb),
                 Column(f"{engine}_ram_static_bytes", f"{engine} static RAM (kB)", fmt_kb),
                 Column(f"{engine}_outputs_exact", f"{engine} = LiteRT", fmt_bool),
                 Column(f"{engine}_outputs_max_abs_diff", f"{engine} max |diff|", fmt_float)]
    cols += [Column("tflm_outputs_exact_tflm_interpreter", "tflm = TFLM interpreter", fmt_bool),
             Column("cost_kind", "cost compared", text=True),
             Column("cost_ratio", "aot/tflm cost", lambda x: "" if x is None else f"{x:.3f}"),
             Column("flash_ratio", "aot/tflm flash", lambda x: "" if x is None else f"{x:.3f}"),
             Column("ram_ratio", "aot/tflm RAM", lambda x: "" if x is None else f"{x:.3f}")]
    return Table("engines", "Engines: generated C (aot) against TensorFlow Lite Micro (tflm)", cols, rows, notes=[
        "One row per board and variant. Cost is cycles per inference where the profile has a cycle "
        "model, else emulated instructions; a ratio below 1 means the generated C needs less than "
        "TFLite Micro (CMSIS-NN kernels on the Cortex-M4F boards, its portable kernels on rpi4). "
        "RAM is static RAM plus the stack: for aot the call-graph estimate, for tflm on the Cortex-M4F "
        "boards the 8 KiB it reserves (the library's frames are outside the estimate), so compare "
        "static RAM and arena first; the arena is part of static RAM. '= LiteRT' is bit "
        "equality with LiteRT's reference kernels on every frame; TFLite Micro's int8 "
        "FULLY_CONNECTED rounds twice where LiteRT rounds once, so its distance to LiteRT is "
        "recorded, and 'tflm = TFLM interpreter' compares it with the tflite-micro Python "
        "interpreter (the same library on the host)."])


def gains_table(summary: Summary) -> Table:
    """Size, latency and energy gain of every variant against the baseline, percent."""
    base = summary.baseline
    rows = []
    cols = [Column("variant", "variant"),
            Column("size_gain_pct", ".tflite size (%)", fmt_gain),
            Column("host_instructions_gain_pct", "host instructions (%)", fmt_gain),
            Column("host_latency_gain_pct", "host latency (%)", fmt_gain),
            Column("host_latency_noisy", "host latency noisy", fmt_bool)]
    for board in summary.board_keys:
        cols.append(Column(f"{board}_latency_gain_pct", f"{board} latency (%)", fmt_gain))
        cols.append(Column(f"{board}_energy_gain_pct", f"{board} energy (%)", fmt_gain))
    for v in summary.variants:
        row = {"variant": v["name"],
               "size_gain_pct": gain_pct(v["tflite_bytes"], base["tflite_bytes"]),
               **host_gains(summary, v)}
        for board in summary.board_keys:
            g = board_gains(summary, v["name"], board)
            row[f"{board}_latency_gain_pct"] = g["latency_gain_pct"]
            row[f"{board}_energy_gain_pct"] = g["energy_gain_pct"]
        rows.append(row)
    return Table("gains", "Gains against the baseline", cols, rows, notes=[
        "Percent change against the baseline, the paper's convention: -50 means half the "
        "size, time or energy. Blank: not profiled on that board (or the baseline was not), "
        "or a noisy host latency measurement.", host_note(summary)])


def _agreement(fig: paper.PaperFigure, ours: float | None, note: str = "",
               not_comparable: bool = False) -> str:
    if ours is None or fig.gain_pct is None:
        return "cannot compare" + (f" ({note})" if note else "")
    diff = ours - fig.gain_pct
    if abs(diff) <= fig.tolerance:
        verdict = f"agrees (within {fig.tolerance:g} points)"
    elif (ours < 0) == (fig.gain_pct < 0):
        verdict = f"same direction, differs by {diff:+.1f} points"
    else:
        verdict = f"differs: opposite direction ({diff:+.1f} points)"
    if not_comparable:
        verdict = f"not comparable ({verdict} by number)"
    return verdict + (f"; {note}" if note else "")


def paper_table(summary: Summary) -> Table:
    """The baseline and the paper's final chain beside the paper's published figures."""
    has_final = summary.has_variant(paper.PAPER_FINAL)
    base = summary.baseline
    final = summary.variant(paper.PAPER_FINAL) if has_final else None
    source = summary.dataset.get("source", "unknown")
    data_note = (f"data source differs: this run uses {source} data, the paper the lab's "
                 "recorded EIT frames" if summary.is_synthetic else f"data source: {source}")
    rows = []
    for fig in paper.FIGURES:
        row: dict[str, Any] = {
            "figure": fig.label, "paper_baseline": fig.baseline, "paper_final": fig.final,
            "paper_gain": fig.gain_pct, "paper_text": fig.text,
            "run_baseline": None, "run_final": None, "run_gain": None, "unit": "",
            "basis": "", "agreement": ""}
        note = ""
        if final is None:
            row["basis"] = f"variant {paper.PAPER_FINAL} not in this study"
        elif fig.metric == "size":
            row.update(unit="kB", run_baseline=_kb(base.get("keras_bytes")),
                       run_final=_kb(final["tflite_bytes"]),
                       run_gain=gain_pct(final["tflite_bytes"], base.get("keras_bytes")))
            tfl = gain_pct(final["tflite_bytes"], base["tflite_bytes"])
            row["basis"] = ("measured: baseline Keras file (with optimizer state, the paper's "
                            "likely measure) against the final .tflite")
            note = f".tflite against .tflite: {tfl:+.1f} %"
        elif fig.metric == "accuracy":
            row.update(unit="%", run_baseline=100 * base["accuracy_cv_mean"],
                       run_final=100 * final["accuracy_cv_mean"],
                       run_gain=100 * (final["accuracy_cv_mean"] - base["accuracy_cv_mean"]))
            row["run_text"] = (f"{100 * base['accuracy_cv_mean']:.2f} +- "
                               f"{100 * base['accuracy_cv_std']:.2f} % -> "
                               f"{100 * final['accuracy_cv_mean']:.2f} +- "
                               f"{100 * final['accuracy_cv_std']:.2f} %, "
                               f"{row['run_gain']:+.2f} points")
            row["basis"] = "measured: cross-validation mean"
            note = data_note
        elif fig.metric == "host_latency":
            b, f = base.get("host_latency_ms"), final.get("host_latency_ms")
            gains = host_gains(summary, final)
            row.update(unit="ms", run_baseline=b, run_final=f,
                       run_gain=gains["host_latency_gain_pct"])
            row["basis"] = ("measured on this host: median thread CPU time per LiteRT invoke() "
                            "(default kernels, one thread)")
            ib, i_f = (base.get("host_instructions_per_invoke"),
                       final.get("host_instructions_per_invoke"))
            if ib is not None and i_f is not None:
                note = (f"instructions per invoke (callgrind): {ib:,} -> {i_f:,}, "
                        f"{gains['host_instructions_gain_pct']:+.1f} %")
            if gains["host_latency_noisy"]:
                note = "host latency measurement noisy" + (f"; {note}" if note else "")
            elif b is None or f is None:
                note = "host latency not measured" + (f"; {note}" if note else "")
        else:
            _board_row(summary, fig, row)
            note = row.pop("_note", "")
        row["agreement"] = _agreement(fig, row["run_gain"], note,
                                      not_comparable=(fig.metric == "accuracy"
                                                      and summary.is_synthetic))
        if "run_text" not in row:
            row["run_text"] = _run_text(row)
        rows.append(row)
    cols = [Column("figure", "figure"), Column("paper_text", "paper (published)"),
            Column("run_text", "this run"),
            Column("paper_gain", "paper gain", fmt_gain), Column("run_gain", "this run gain",
                                                                 fmt_gain),
            Column("basis", "this run's figure is"), Column("agreement", "agreement"),
            Column("paper_baseline", "paper baseline", fmt_float),
            Column("paper_final", "paper final", fmt_float),
            Column("run_baseline", "this run baseline", fmt_float),
            Column("run_final", "this run final", fmt_float), Column("unit", "unit")]
    notes = [f"Baseline: variant 'baseline'; final: '{paper.PAPER_FINAL}' (KD + filter pruning "
             "+ full-integer PTQ), the paper's combination. Gains in percent (accuracy: "
             "percentage points). Source: " + paper.CITATION + "."]
    if summary.is_synthetic:
        notes.insert(0, "Data source differs from the paper: this run uses synthetic EIT "
                        "frames, so its accuracies say nothing about the paper's accuracies; "
                        "sizes and latencies depend on the model only and are comparable.")
    return Table("paper", "This run against the paper", cols, rows, notes=notes)


def _kb(x: float | None) -> float | None:
    return None if x is None else x / 1000


def _board_row(summary: Summary, fig: paper.PaperFigure, row: dict[str, Any]) -> None:
    board = fig.board
    if board not in summary.board_keys:
        row["basis"] = f"board {board} not in this study"
        return
    dep_b = summary.deployment("baseline", board)
    dep_f = summary.deployment(paper.PAPER_FINAL, board)
    missing = [f"{name}: {dep['status'].replace('_', ' ') if dep else NOT_PROFILED}"
               for name, dep in (("baseline", dep_b), ("final", dep_f))
               if not dep or dep.get("status") != "ok"]
    if missing:
        row["basis"] = "; ".join(missing)
        if fig.metric == "board_latency":  # still show the side that ran
            cb, kb = board_cost(dep_b)
            cf, kf = board_cost(dep_f)
            if "latency_ms" in (kb, kf):
                row.update(unit="ms", run_baseline=cb if kb == "latency_ms" else None,
                           run_final=cf if kf == "latency_ms" else None)
        return
    if fig.metric == "board_latency":
        cb, kb = board_cost(dep_b)
        cf, kf = board_cost(dep_f)
        if kb == "latency_ms" and kf == "latency_ms":
            row.update(unit="ms", run_baseline=cb, run_final=cf, run_gain=gain_pct(cf, cb))
            est = dep_b.get("latency_is_estimate") or dep_f.get("latency_is_estimate")
            method = dep_b.get("latency_method") or dep_f.get("latency_method")
            row["basis"] = ((f"estimated: {method}" if method else
                             "estimated: emulated instruction count at the board's clock")
                            if est else "measured on the board")
        elif kb == kf and kb is not None:
            row.update(unit="instructions", run_baseline=cb, run_final=cf,
                       run_gain=gain_pct(cf, cb))
            row["basis"] = "measured: instructions per inference (emulator)"
        else:
            row["basis"] = "no latency figure"
    else:
        eb, ef = dep_b.get("energy_uj"), dep_f.get("energy_uj")
        row.update(unit="uJ / inference", run_baseline=eb, run_final=ef,
                   run_gain=gain_pct(ef, eb))
        est = dep_b.get("energy_is_estimate") or dep_f.get("energy_is_estimate")
        row["basis"] = ("estimated: energy per inference from datasheet power x latency"
                        if est else "measured: energy per inference")
        row["_note"] = "the paper reports average power, this run energy per inference"


def _run_text(row: dict[str, Any]) -> str:
    b, f, g = row["run_baseline"], row["run_final"], row["run_gain"]
    if b is None and f is None:
        return NOT_PROFILED if NOT_PROFILED in row["basis"] else "n/a"
    unit = row["unit"]

    def num(x: float | None) -> str:
        if x is None:
            return "n/a"
        if unit == "instructions":
            return f"{x:,.0f}"
        return f"{x:.4g}" if unit == "ms" else f"{x:.2f}"
    text = f"{num(b)} -> {num(f)} {unit}"
    if g is not None:
        text += f", {g:+.1f} {'points' if unit == '%' else '%'}"
    return text


def _exact_text(dep: dict | None) -> str:
    if not dep or dep.get("status") != "ok":
        return ""
    if dep.get("outputs_exact"):
        return "= LiteRT"
    diff = dep.get("outputs_max_abs_diff")
    text = f"LiteRT ±{diff:.2g}" if diff is not None else "differs"
    if dep.get("outputs_exact_tflm_interpreter") is True:
        text += ", = TFLM interp."
    elif dep.get("outputs_exact_tflm_interpreter") is False:
        text += ", ≠ TFLM interp."
    return text


def _cell(dep: dict | None, key: str, fmt) -> str:
    if dep is None:
        return NOT_PROFILED
    if dep.get("status") != "ok" and key in ("cost",):
        return str(dep.get("status")).replace("_", " ")
    return fmt(dep.get(key)) if dep.get(key) is not None else ""


def engines_markdown(summary: Summary) -> str:
    """The engine comparison as one Markdown table per board (README, `make bench-deploy`)."""
    table = engines_table(summary)
    out = []
    for board in summary.board_keys:
        rows = [r for r in table.rows if r["board"] == board]
        if not rows:
            continue
        deps = [d for d in summary.deployments if d["board"] == board and d.get("status") == "ok"]
        unit = "cycles" if deps and all(d.get("cycles_per_inference") is not None for d in deps) else "instructions"
        out.append(f"**{summary.board_title(board)}** ({unit} per inference; flash, static RAM (.data + .bss, "
                   "the arena included) and arena in kB)\n")
        out.append(f"| variant | aot {unit} | tflm {unit} | aot/tflm | aot flash | tflm flash | aot static RAM "
                   "(arena) | tflm static RAM (arena) | aot exact | tflm exact |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
        for r in rows:
            aot = summary.deployment(r["variant"], board, "aot")
            tfl = summary.deployment(r["variant"], board, "tflm")

            def cost(dep):
                if dep is None:
                    return NOT_PROFILED
                if dep.get("status") != "ok":
                    return str(dep.get("status")).replace("_", " ")
                value = dep.get("cycles_per_inference") if unit == "cycles" else dep.get("instructions_per_inference")
                return fmt_int(value)

            def ram(dep):
                if not dep or dep.get("ram_static_bytes") is None:
                    return ""
                return f"{fmt_kb(dep['ram_static_bytes'])} ({fmt_kb(dep.get('arena_bytes')) or '?'})"

            ratio_text = "" if r["cost_ratio"] is None else f"{r['cost_ratio']:.2f}"
            out.append(f"| {r['variant']} | {cost(aot)} | {cost(tfl)} | {ratio_text} | "
                       f"{fmt_kb((aot or {}).get('flash_bytes'))} | {fmt_kb((tfl or {}).get('flash_bytes'))} | "
                       f"{ram(aot)} | {ram(tfl)} | {_exact_text(aot)} | {_exact_text(tfl)} |")
        out.append("")
    return "\n".join(out) + ("\n" if out else "")
