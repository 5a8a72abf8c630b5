"""`tinyeit report` writes the report folder; `tinyeit recommend` answers for one board."""
from __future__ import annotations

import argparse
import sys


def _report(args: argparse.Namespace) -> int:
    from tinyeit.report.build import render_report

    for path in render_report(args.summary, args.out_dir, args.host_latency):
        print(path)
    return 0


def _recommend(args: argparse.Namespace) -> int:
    from tinyeit.report.recommend import format_recommendation, recommend
    from tinyeit.report.summary import load_summary

    summary = load_summary(args.summary)
    rec = recommend(summary, args.board, max_accuracy_drop=args.max_drop,
                    max_latency_ms=args.max_latency_ms)
    sys.stdout.write(format_recommendation(rec))
    return 0


def _engines(args: argparse.Namespace) -> int:
    from tinyeit.report.summary import load_summary
    from tinyeit.report.tables import engines_markdown

    sys.stdout.write(engines_markdown(load_summary(args.summary)))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("engines", help="print the aot/tflm comparison per board (Markdown)",
                              description="One table per board: instructions (or cycles) per inference, "
                              "flash, RAM (arena and static) and exactness of both engines, and the "
                              "aot/tflm ratio, from the summary.")
    p.add_argument("--summary", default="results/summary.json", help="%(default)s")
    p.set_defaults(func=_engines)

    p = subparsers.add_parser("report", help="render the report folder from summary.json",
                              description="Tables (CSV), plots (PNG) and a self-contained "
                              "index.html, from the summary alone.")
    p.add_argument("summary", help="results/summary.json")
    p.add_argument("out_dir", help="folder to write (e.g. results/report)")
    p.add_argument("--host-latency", default=None,
                   help="results/host_latency.json: measured host latencies (without it the "
                   "report shows host instructions only)")
    p.set_defaults(func=_report)

    p = subparsers.add_parser("recommend", help="the variant to ship on a board",
                              description="The most accurate variant that fits the board's "
                              "flash and RAM and meets the bounds, and the Pareto set.")
    p.add_argument("--board", required=True, help="board key (or alias) from config")
    p.add_argument("--summary", default="results/summary.json", help="%(default)s")
    p.add_argument("--max-drop", type=float, default=None,
                   help="max accuracy drop against the baseline, a fraction (0.03 = 3 points);"
                   " default: the summary's report.max_accuracy_drop")
    p.add_argument("--max-latency-ms", type=float, default=None,
                   help="max latency per inference on the board (ms); default: the summary's "
                   "report.max_latency_ms")
    p.set_defaults(func=_recommend)
