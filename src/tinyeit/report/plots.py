"""The report's PNG plots, drawn from the summary with matplotlib, byte-for-byte reproducible.

Each function returns PNG bytes. Figures are built without pyplot (no global state), under
matplotlib's default style whatever the user's matplotlibrc says, and saved without the
software/date metadata, so the same summary gives the same bytes. Every variant keeps one
colour and marker across plots; names go in a legend outside the axes, never on the points,
so labels cannot overlap.
"""
from __future__ import annotations

import io
from typing import Any

from tinyeit.report.analysis import pareto_front, size_pareto
from tinyeit.report.summary import Summary

DPI = 110
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", pad_inches=0.15,
                metadata={"Software": None})
    return buf.getvalue()


def _styles(summary: Summary) -> dict[str, dict[str, Any]]:
    import matplotlib

    cmap = matplotlib.colormaps["tab20"]
    return {name: {"color": cmap(i % 20), "marker": MARKERS[i % len(MARKERS)]}
            for i, name in enumerate(summary.variant_names)}


def _with_defaults(draw):
    """Run a drawing function under matplotlib's default rc, whatever the user's matplotlibrc."""
    def wrapper(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context():
            matplotlib.rcdefaults()
            matplotlib.rcParams["svg.hashsalt"] = "tinyeit"
            return draw(*args, **kwargs)
    wrapper.__name__ = draw.__name__
    wrapper.__doc__ = draw.__doc__
    return wrapper


def _log_x(ax, values: list[float]) -> None:
    """Log x axis with plain-number tick labels; minor ticks labelled only where they fit."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    def plain(x, _pos):
        return f"{x:g}"
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(plain))
    lo, hi = min(values), max(values)
    span = hi / lo if lo > 0 else float("inf")
    if span <= 4:
        subs = (2, 3, 4, 5, 6, 7, 8, 9)
    elif span <= 100:
        subs = (2, 5)
    else:
        subs = ()
    ax.xaxis.set_minor_locator(LogLocator(subs=subs or (2, 3, 4, 5, 6, 7, 8, 9)))
    ax.xaxis.set_minor_formatter(FuncFormatter(
        lambda x, _pos: f"{x:g}" if subs and round(x / 10 ** _floor_log(x)) in subs else "")
        if subs else NullFormatter())
    ax.tick_params(axis="x", which="minor", labelsize=8)
    ax.set_xmargin(0.08)


def _floor_log(x: float) -> int:
    import math

    return math.floor(math.log10(x) + 1e-9)


def _legend(ax, title: str | None = None) -> None:
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, title=title,
              title_fontsize=8, frameon=False, borderaxespad=0.0)


def accuracy_vs_size_figure(summary: Summary):
    """CV accuracy (mean, std bars) against .tflite size on a log axis, Pareto front drawn."""
    styles = _styles(summary)
    fig = _figure(9.5, 5.5)
    ax = fig.add_subplot()
    for v in summary.variants:
        st = styles[v["name"]]
        ax.errorbar(v["tflite_bytes"] / 1000, 100 * v["accuracy_cv_mean"],
                    yerr=100 * v["accuracy_cv_std"], fmt=st["marker"], color=st["color"],
                    markersize=7, capsize=3, label=v["name"])
    front = [summary.variant(n) for n in size_pareto(summary)]
    ax.plot([v["tflite_bytes"] / 1000 for v in front],
            [100 * v["accuracy_cv_mean"] for v in front], "--", color="black", linewidth=1.2,
            drawstyle="steps-post", label="Pareto front", zorder=0)
    _log_x(ax, [v["tflite_bytes"] / 1000 for v in summary.variants])
    ax.set_xlabel(".tflite model size (kB, log scale)")
    ax.set_ylabel("cross-validation accuracy (%)")
    ax.set_title("Accuracy against model size (error bars: CV std)")
    ax.grid(True, which="both", alpha=0.3)
    _legend(ax, "variant")
    return fig


def _board_points(summary: Summary, board: str) -> tuple[list[tuple[dict, float]], str | None]:
    """(variant, cost) for the board's ok deployments, one cost kind for all of them."""
    deps = [(v, summary.deployment(v["name"], board)) for v in summary.variants]
    ok = [(v, d) for v, d in deps if d and d.get("status") == "ok"]
    if ok and all(d.get("latency_ms") is not None for _, d in ok):
        return [(v, float(d["latency_ms"])) for v, d in ok], "latency_ms"
    with_instr = [(v, float(d["instructions_per_inference"])) for v, d in ok
                  if d.get("instructions_per_inference") is not None]
    if with_instr:
        return with_instr, "instructions"
    return [], None


def board_x_label(summary: Summary, board: str, kind: str | None) -> str:
    if kind == "instructions":
        return "instructions per inference (emulated, log scale)"
    estimated = any(d.get("latency_is_estimate") for d in summary.deployments
                    if d["board"] == board and d.get("status") == "ok")
    clock = summary.boards.get(board, {}).get("clock_hz")
    if estimated:
        at = f" at {clock / 1e6:g} MHz" if clock else ""
        basis = "cycle model" if any(
            d.get("cycles_per_inference") is not None for d in summary.deployments
            if d["board"] == board and d.get("status") == "ok") else "instructions"
        return f"latency per inference (ms, estimated from the {basis}{at}, log scale)"
    return "latency per inference (ms, measured, log scale)"


def board_latency_figure(summary: Summary, board: str):
    """Latency (or instructions) per inference against accuracy on one board."""
    styles = _styles(summary)
    points, kind = _board_points(summary, board)
    fig = _figure(9.5, 5.5 if points else 2.2)
    ax = fig.add_subplot()
    title = f"{summary.board_title(board)}: accuracy against inference cost"
    ax.set_title(title)
    if not points:
        ax.text(0.5, 0.5, f"not profiled: no variant ran on {board}", ha="center",
                va="center", fontsize=13, transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        return fig
    for v, cost in points:
        st = styles[v["name"]]
        ax.errorbar(cost, 100 * v["accuracy_cv_mean"], yerr=100 * v["accuracy_cv_std"],
                    fmt=st["marker"], color=st["color"], markersize=7, capsize=3,
                    label=v["name"])
    front = pareto_front(points, lambda p: p[1], lambda p: p[0]["accuracy_cv_mean"])
    ax.plot([c for _, c in front], [100 * v["accuracy_cv_mean"] for v, _ in front], "--",
            color="black", linewidth=1.2, drawstyle="steps-post", label="Pareto front",
            zorder=0)
    _log_x(ax, [c for _, c in points])
    ax.set_xlabel(board_x_label(summary, board, kind))
    ax.set_ylabel("cross-validation accuracy (%)")
    ax.grid(True, which="both", alpha=0.3)
    _legend(ax, "variant (status ok)")
    return fig


def gains_figure(summary: Summary):
    """Size, latency and energy gain of every variant against the baseline, percent bars.

    Host latency bars come from measurements that are not flagged noisy only (the legend says
    how many are left out); host instructions, exact, stand beside them.
    """
    from tinyeit.report.tables import gains_table

    import matplotlib

    table = gains_table(summary)
    names = [r["variant"] for r in table.rows]
    boards = summary.board_keys
    noisy = sum(1 for r in table.rows if r.get("host_latency_noisy"))
    host_label = "host latency (LiteRT)" + (f", {noisy} noisy not drawn" if noisy else "")
    panels = [
        ("size", [(".tflite size", "size_gain_pct")]),
        ("latency per inference", [("host instructions (callgrind)", "host_instructions_gain_pct"),
                                   (host_label, "host_latency_gain_pct")]
         + [(b, f"{b}_latency_gain_pct") for b in boards]),
        ("energy per inference", [(b, f"{b}_energy_gain_pct") for b in boards]),
    ]
    cmap = matplotlib.colormaps["tab10"]
    series_color = {"size_gain_pct": cmap(0), "host_latency_gain_pct": cmap(1),
                    "host_instructions_gain_pct": cmap(9)}
    for i, b in enumerate(boards):
        series_color[f"{b}_latency_gain_pct"] = cmap((2 + i) % 9)
        series_color[f"{b}_energy_gain_pct"] = cmap((2 + i) % 9)
    n = len(names)
    height_in = 2.2 + 0.42 * n
    fig = _figure(15, height_in)
    axes = fig.subplots(1, len(panels), sharey=True)
    axes_height_in = height_in * (1 - 1.3 / height_in)
    ys = list(range(n))
    for ax, (title, series) in zip(axes, panels):
        k = max(len(series), 1)
        height = 0.8 / k
        drawn = False
        for j, (label, key) in enumerate(series):
            vals = [r.get(key) for r in table.rows]
            if all(x is None for x in vals):
                continue
            offs = [y - 0.4 + height * (j + 0.5) for y in ys]
            ax.barh([o for o, x in zip(offs, vals) if x is not None],
                    [x for x in vals if x is not None], height=height,
                    color=series_color[key], label=label)
            drawn = True
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_title(f"{title} gain")
        ax.set_xlabel("change against baseline (%)")
        ax.grid(True, axis="x", alpha=0.3)
        if drawn:
            # Below the x label: 0.5 inch under the axes, whatever the figure's height.
            below = -0.5 / (axes_height_in)
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, below), fontsize=8,
                      ncol=min(3, k), frameon=False)
        else:
            ax.text(0.5, 0.5, "not profiled", ha="center", va="center",
                    transform=ax.transAxes, fontsize=11)
    axes[0].set_yticks(ys)
    axes[0].set_yticklabels(names, fontsize=8)
    axes[0].invert_yaxis()
    fig.suptitle("Gain of every variant against the baseline (negative = smaller / faster / "
                 "less energy)", fontsize=11)
    fig.subplots_adjust(wspace=0.25, top=1 - 0.9 / height_in, bottom=0.4 / height_in,
                        left=0.05, right=0.98)
    return fig


@_with_defaults
def accuracy_vs_size_png(summary: Summary) -> bytes:
    return _png(accuracy_vs_size_figure(summary))


@_with_defaults
def board_latency_png(summary: Summary, board: str) -> bytes:
    return _png(board_latency_figure(summary, board))


@_with_defaults
def gains_png(summary: Summary) -> bytes:
    return _png(gains_figure(summary))


def overlapping_texts(fig) -> list[tuple[str, str]]:
    """Pairs of visible, non-empty texts of a drawn figure whose boxes overlap.

    The report's readability check: tick labels, axis labels, titles and legend entries must
    not sit on each other.
    """
    from matplotlib.text import Text

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = []
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip():
            continue
        if t.axes is not None and not t.axes.get_visible():
            continue
        boxes.append((t.get_text(), t.get_window_extent(renderer)))
    clashes = []
    for i, (ta, a) in enumerate(boxes):
        for tb, b in boxes[i + 1:]:
            if a.x0 < b.x1 - 0.5 and b.x0 < a.x1 - 0.5 and a.y0 < b.y1 - 0.5 \
                    and b.y0 < a.y1 - 0.5:
                clashes.append((ta, tb))
    return clashes


def engines_figure(summary: Summary):
    """aot/tflm cost ratio per variant, one panel per board (log scale: 1 = equal)."""
    from tinyeit.report.tables import engines_table

    table = engines_table(summary)
    names = summary.variant_names
    boards = [b for b in summary.board_keys if any(r["board"] == b for r in table.rows)] or ["(none)"]
    n = len(names)
    height_in = 2.0 + 0.36 * n
    fig = _figure(4.6 * len(boards) + 1.5, height_in)
    axes = fig.subplots(1, len(boards), sharey=True, squeeze=False)[0]
    ys = list(range(n))
    for ax, board in zip(axes, boards):
        rows = {r["variant"]: r for r in table.rows if r["board"] == board}
        vals = [rows.get(v, {}).get("cost_ratio") for v in names]
        kinds = {rows[v]["cost_kind"] for v in names if v in rows and rows[v].get("cost_ratio") is not None}
        ax.set_title(board, fontsize=10)
        ax.axvline(1.0, color="black", linewidth=0.8)
        if all(x is None for x in vals):
            ax.text(0.5, 0.5, "no variant ok with both engines", ha="center", va="center",
                    transform=ax.transAxes, fontsize=9)
            ax.set_xticks([])
            continue
        shown = [(y, x) for y, x in zip(ys, vals) if x is not None]
        ax.barh([y for y, _ in shown], [x for _, x in shown], height=0.7,
                color=["tab:green" if x < 1 else "tab:red" for _, x in shown])
        ax.set_xscale("log")
        kind = "cycles" if kinds == {"cycles_per_inference"} else "instructions"
        ax.set_xlabel(f"aot / tflm {kind} per inference (log)")
        ax.grid(True, axis="x", which="both", alpha=0.3)
    axes[0].set_yticks(ys)
    axes[0].set_yticklabels(names, fontsize=8)
    axes[0].invert_yaxis()
    fig.suptitle("Generated C against TensorFlow Lite Micro (green: the generated C needs less)",
                 fontsize=11)
    fig.subplots_adjust(wspace=0.15, top=1 - 0.8 / height_in, bottom=0.7 / height_in, left=0.18, right=0.98)
    return fig


@_with_defaults
def engines_png(summary: Summary) -> bytes:
    return _png(engines_figure(summary))
