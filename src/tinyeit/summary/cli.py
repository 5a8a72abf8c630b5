"""`tinyeit summary`: print a compact table of the study's summary.json."""
from __future__ import annotations


def _show(args) -> int:
    from tinyeit.summary import read_json

    summary = read_json(args.summary)
    print(f"{'variant':34} {'tflite B':>9} {'cv acc':>13} {'test':>6} {'host instr':>10}")
    for v in summary["variants"]:
        print(f"{v['name']:34} {v['tflite_bytes']:>9} "
              f"{v['accuracy_cv_mean']:6.3f}±{v['accuracy_cv_std']:.3f} {v['accuracy_test']:6.3f} "
              f"{v.get('host_instructions_per_invoke') or '':>10}")
    for d in summary["deployments"]:
        print(f"{d['board']:12} {d['variant']:34} {d['status']:22} "
              f"{d.get('instructions_per_inference')} {d.get('cycles_per_inference') or ''}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("summary", help="show results/summary.json as a table")
    p.add_argument("summary", nargs="?", default="results/summary.json")
    p.set_defaults(func=_show)
