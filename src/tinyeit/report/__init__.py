"""The report stage: from `results/summary.json` (and the measured `results/host_latency.json`),
tell which variant to ship on which board.

Public entry points: `render_report(summary_path, out_dir, host_latency_path)` writes the
report folder;
`recommend(summary, board, ...)` judges the variants for one board.
"""
from tinyeit.report.build import render_report, report_files
from tinyeit.report.recommend import format_recommendation, recommend
from tinyeit.report.summary import Summary, SummaryError, load_summary, parse_summary

__all__ = ["render_report", "report_files", "recommend", "format_recommendation", "Summary",
           "SummaryError", "load_summary", "parse_summary"]
