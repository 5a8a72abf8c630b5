"""`tinyeit summary`: print a compact table of the study's summary.json."""
from __future__ import annotations


def _show(args) -> int:
    from tinyeit.report.summary import load_summary

    summary = load_summary(args.summary)   # checked: a bad key is named, not a traceback

    def number(value, fmt):
        return "n/a" if value is None else format(value, fmt)

    print(f"{'variant':34} {'tflite B':>9} {'cv acc':>13} {'test':>6} {'host instr':>10}")
    for v in summary.variants:
        print(f"{v['name']:34} {v['tflite_bytes']:>9} "
              f"{v['accuracy_cv_mean']:6.3f}±{v['accuracy_cv_std']:.3f} "
              f"{number(v.get('accuracy_test'), '6.3f'):>6} "
              f"{v.get('host_instructions_per_invoke') or '':>10}")
    for d in summary.deployments:
        print(f"{d['board']:12} {d['variant']:34} {d.get('status', '?'):22} "
              f"{d.get('instructions_per_inference')} {d.get('cycles_per_inference') or ''}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("summary", help="show results/summary.json as a table")
    p.add_argument("summary", nargs="?", default="results/summary.json")
    p.set_defaults(func=_show)
