"""The report page: one self-contained HTML file (inline CSS, PNGs as data URIs, no script).

It opens from disk with no network, and holds nothing but what the summary says, so the same
summary renders to the same bytes.
"""
from __future__ import annotations

import base64
from html import escape

from tinyeit.report import paper
from tinyeit.report.plots import board_x_label
from tinyeit.report.recommend import Recommendation
from tinyeit.report.summary import Summary
from tinyeit.report.tables import NOT_PROFILED, Table

CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:1.5em auto;max-width:1400px;
 color:#1b1b1b;background:#fff;line-height:1.4;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #335;padding-bottom:.15em;
 margin-top:1.8em}h3{margin-bottom:.3em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0 1em}
th,td{border:1px solid #bbc;padding:.25em .5em;vertical-align:top}
th{background:#e8eaf2;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.pareto td:first-child{font-weight:bold}tr.key td{background:#f5f7e8}
.banner{background:#fff3cd;border:1px solid #e0c060;padding:.6em 1em;margin:1em 0}
.note{color:#444;font-size:.85em;max-width:70em}
.card{border:1px solid #bbc;border-radius:4px;padding:.6em 1em;margin:.8em 0;background:#fafbff}
.choice{font-size:1.1em}.none{color:#a33}
.st-ok{background:#e6f4e6}.st-does_not_fit{background:#fbe3e3}.st-failed{background:#f6c9c9}
.st-toolchain_unavailable{background:#eee}.st-unsupported{background:#eee}.st-not{background:#f4f4f4;color:#666}
img{max-width:100%;height:auto;border:1px solid #ddd}
nav a{margin-right:1em}.wide{overflow-x:auto}code{background:#f1f1f1;padding:0 .2em}
"""


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}">'


def table_html(table: Table, columns: list[str] | None = None,
               row_class=lambda row: "") -> str:
    cols = [c for c in table.columns if columns is None or c.key in columns]
    head = "".join(f"<th>{escape(c.header)}</th>" for c in cols)
    body = []
    for row in table.rows:
        cells = []
        for c in cols:
            cls = ' class="num"' if c.numeric else ""
            cells.append(f"<td{cls}>{escape(c.fmt(row.get(c.key)))}</td>")
        cls = row_class(row)
        body.append(f'<tr{f" class={chr(34)}{cls}{chr(34)}" if cls else ""}>'
                    + "".join(cells) + "</tr>")
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in table.notes)
    return (f'<div class="wide"><table id="table-{escape(table.name)}"><thead><tr>{head}'
            '</tr></thead><tbody>' + "".join(body) + "</tbody></table></div>" + notes)


def _recommendation_html(summary: Summary, rec: Recommendation) -> str:
    limits = summary.boards.get(rec.board, {})
    flash, ram = limits.get("flash_bytes"), limits.get("ram_bytes")
    lim = ", ".join(f"{what} {v / 1000:.0f} kB" for what, v in (("flash", flash), ("RAM", ram))
                    if v) or "no flash/RAM limit"
    bounds = []
    if rec.max_accuracy_drop is not None:
        bounds.append(f"accuracy drop &le; {100 * rec.max_accuracy_drop:.2f} points")
    if rec.max_latency_ms is not None:
        bounds.append(f"latency &le; {rec.max_latency_ms:.4g} ms")
    out = [f'<div class="card" id="rec-{escape(rec.board)}">',
           f"<h3>{escape(summary.board_title(rec.board))}</h3>",
           f"<p>Limits: {lim}. Bounds: {', '.join(bounds) or 'none'}.</p>"]
    if rec.choice:
        c = rec.candidate(rec.choice, rec.choice_engine)
        cost = _cost_html(c.cost, c.cost_kind)
        out.append(f'<p class="choice">Recommended: <b>{escape(c.variant)}</b> with engine '
                   f'<b>{escape(c.engine)}</b> &mdash; '
                   f"accuracy {100 * c.accuracy:.2f} %, drop {100 * c.drop:.2f} points"
                   f"{', ' + cost if cost else ''}.</p>")
    else:
        out.append('<p class="choice none">Recommended: none &mdash; no variant profiled on '
                   "this board fits it and meets the bounds.</p>")
    if rec.pareto:
        front = [rec.candidate(n, e) for n, e in zip(rec.pareto, rec.pareto_engines)]
        items = "".join(
            f"<li>{escape(c.label)}: accuracy {100 * c.accuracy:.2f} %, "
            f"{_cost_html(c.cost, c.cost_kind)}</li>" for c in front)
        out.append(f"<p>Pareto set (accuracy against latency, variants that fit):</p>"
                   f"<ul>{items}</ul>")
    else:
        out.append(f"<p>Pareto set: empty ({NOT_PROFILED}: no variant ran on this board).</p>")
    rejected = [c for c in rec.candidates if not c.eligible]
    if rejected:
        items = "".join(f"<li>{escape(c.label)}: {escape('; '.join(c.reasons))}</li>"
                        for c in rejected)
        out.append(f"<details><summary>Not eligible ({len(rejected)})</summary>"
                   f"<ul>{items}</ul></details>")
    out.append("</div>")
    return "".join(out)


def _cost_html(cost: float | None, kind: str | None) -> str:
    if kind == "latency_ms":
        return f"{cost:.4g} ms"
    if kind == "instructions":
        return f"{cost:,.0f} instructions"
    return ""


def _matrix_html(summary: Summary) -> str:
    """Variants x boards: latency where profiled ok, otherwise the status."""
    boards = summary.board_keys
    head = "<th>variant</th>" + "".join(f"<th>{escape(b)}</th>" for b in boards)
    rows = []
    for name in summary.variant_names:
        cells = [f"<td>{escape(name)}</td>"]
        for b in boards:
            d = summary.deployment(name, b)
            if d is None:
                cells.append(f'<td class="st-not">{NOT_PROFILED}</td>')
                continue
            status = d.get("status")
            if status == "ok":
                if d.get("latency_ms") is not None:
                    text = f"{d['latency_ms']:.4g} ms"
                    if d.get("latency_is_estimate"):
                        text += " (est.)"
                    if d.get("cycles_per_inference") is not None:
                        text += f", {d['cycles_per_inference']:,.0f} cycles"
                elif d.get("instructions_per_inference") is not None:
                    text = f"{d['instructions_per_inference']:,.0f} instr."
                else:
                    text = "ok"
                if d.get("outputs_match_host") is False:
                    text += ", outputs differ from LiteRT"
            else:
                text = status.replace("_", " ")
                if status == "does_not_fit" and d.get("flash_bytes") is not None:
                    text += (f" (flash {d['flash_bytes'] / 1000:.0f} kB"
                             + (f", RAM {d['ram_bytes'] / 1000:.0f} kB"
                                if d.get("ram_bytes") is not None else "") + ")")
            cells.append(f'<td class="st-{escape(status)}">{escape(text)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table id="table-matrix"><thead><tr>{head}</tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>")


def render_html(summary: Summary, summary_sha256: str, tables: dict[str, Table],
                pngs: dict[str, bytes], recommendations: list[Recommendation]) -> str:
    """The whole page as a string; `pngs` maps file names to PNG bytes."""
    ds = summary.dataset
    front_rows = {r["name"] for r in tables["variants"].rows if r["pareto_size_accuracy"]}
    key_rows = {"baseline", paper.PAPER_FINAL}

    def variant_class(row):
        name = row.get("name") or row.get("variant")
        return " ".join(c for c, on in (("pareto", name in front_rows),
                                        ("key", name in key_rows)) if on)

    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             "<title>tinyeit report</title>", f"<style>{CSS}</style></head><body>",
             "<h1>tinyeit: which compression to ship on which board</h1>",
             f'<p>Dataset: source <b>{escape(str(ds.get("source")))}</b>, '
             f'{escape(str(ds.get("n_frames")))} frames of {escape(str(ds.get("n_features")))}'
             f' features, {escape(str(ds.get("n_classes")))} classes, sha256 '
             f'<code>{escape(str(ds.get("sha256", ""))[:16])}</code>. '
             f"{len(summary.variants)} variants, {len(summary.deployments)} deployments on "
             f"{len(summary.board_keys)} boards. Built from the summary "
             f"(<code>summary.json</code> sha256 <code>{summary_sha256[:16]}</code>)"
             + (" and the host latencies measured on this machine (<code>host_latency.json"
                "</code>)" if summary.host_latency_method else
                "; no host latency measurement given") + ".</p>"]
    if summary.is_synthetic:
        parts.append('<div class="banner"><b>Synthetic data.</b> This run uses simulated EIT '
                     "frames, not the paper's recorded data: accuracies are not comparable "
                     "with the paper's; sizes, instruction counts and latencies are.</div>")
    parts.append('<nav><a href="#recommendations">Recommendations</a><a href="#paper">Paper'
                 '</a><a href="#variants">Variants</a><a href="#gains">Gains</a>'
                 '<a href="#boards">Boards</a><a href="#engines">Engines</a>'
                 '<a href="#deployments">Deployments</a></nav>')

    parts.append('<h2 id="recommendations">Recommendation per board</h2>')
    parts.append('<p class="note">The most accurate variant that was deployed on the board '
                 "with status ok, fits its flash and RAM, and meets the bounds. Run "
                 "<code>tinyeit recommend --board KEY [--max-drop 0.03] [--max-latency-ms "
                 "X]</code> for other bounds.</p>")
    parts.extend(_recommendation_html(summary, r) for r in recommendations)

    parts.append('<h2 id="paper">This run against the paper</h2>')
    parts.append(table_html(tables["paper"], ["figure", "paper_text", "run_text", "basis",
                                              "agreement"]))

    parts.append('<h2 id="variants">Variants</h2>')
    parts.append(_img(pngs["accuracy_vs_size.png"], "accuracy against .tflite size"))
    parts.append(table_html(tables["variants"], row_class=variant_class))

    parts.append('<h2 id="gains">Gains against the baseline</h2>')
    parts.append(table_html(tables["gains"], row_class=variant_class))
    parts.append(_img(pngs["gains.png"], "gains against the baseline"))

    parts.append('<h2 id="boards">Boards</h2>')
    parts.append(_matrix_html(summary))
    for board in summary.board_keys:
        parts.append(f'<h3 id="board-{escape(board)}">{escape(summary.board_title(board))}'
                     "</h3>")
        parts.append(_img(pngs[f"latency_{board}.png"],
                          f"{board}: accuracy against {board_x_label(summary, board, None)}"))

    parts.append('<h2 id="engines">Engines: generated C against TensorFlow Lite Micro</h2>')
    parts.append(_img(pngs["engines.png"], "aot/tflm cost ratio per variant and board"))
    parts.append(table_html(tables["engines"]))

    parts.append('<h2 id="deployments">Deployments</h2>')
    parts.append("<details><summary>Every variant on every board with every engine "
                 f"({len(tables['deployments'].rows)} rows)</summary>"
                 + table_html(tables["deployments"]) + "</details>")
    parts.append(f'<p class="note">Paper: {escape(paper.CITATION)}.</p>')
    parts.append("</body></html>\n")
    return "\n".join(parts)
