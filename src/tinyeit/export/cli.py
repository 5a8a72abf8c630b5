"""`tinyeit export`: convert and measure one variant outside Snakemake."""
from __future__ import annotations


def _export(args) -> int:
    from tinyeit import config as study_config
    from tinyeit.export import run_export
    from tinyeit.export.runner import TERMINAL

    chain = "+".join(s for s in args.variant.split("+") if s not in TERMINAL)
    run_export(args.variant, study_config.load(args.config), args.dataset,
               args.model_dir or f"{args.models}/{chain}",
               args.out_dir or f"{args.tflite}/{args.variant}")
    return 0


def _host_latency(args) -> int:
    from tinyeit.export import host_latency

    r = host_latency.write(args.model, args.frames, args.variant, args.out)
    print(f"{args.variant}: {r['host_latency_ms'] * 1e3:.3f} us per invoke (median, IQR "
          f"{r['host_latency_iqr_ms'] * 1e3:.3f} us{', NOISY' if r['host_latency_noisy'] else ''})")
    return 0


def _host_instructions(args) -> int:
    from tinyeit.export import host_instructions

    r = host_instructions.write(args.model, args.frames, args.variant, args.out)
    print(f"{args.variant}: {r['host_instructions_per_invoke']:,} instructions per invoke")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "export", help="variant -> model.tflite, accuracy.json, metrics.json, frames.npz")
    p.add_argument("variant", help="e.g. baseline+kd+fp+ptq_int8")
    p.add_argument("--config", default="config.yaml")
    p.add_argument("--dataset", default="results/dataset/dataset.npz")
    p.add_argument("--models", default="results/models")
    p.add_argument("--tflite", default="results/tflite")
    p.add_argument("--model-dir", help="default: MODELS/<chain of the variant>")
    p.add_argument("--out-dir", help="default: TFLITE/<variant>")
    p.set_defaults(func=_export)

    for name, func, what in (
            ("host-latency", _host_latency,
             "time LiteRT invoke() of a .tflite (blocks, median, IQR) -> host_latency.json"),
            ("host-instructions", _host_instructions,
             "count instructions per LiteRT invoke() (callgrind) -> host_instructions.json")):
        p = subparsers.add_parser(name, help=what)
        p.add_argument("model", help="results/tflite/<variant>/model.tflite")
        p.add_argument("frames", help="results/tflite/<variant>/frames.npz (first input frame)")
        p.add_argument("out", help="the JSON file to write")
        p.add_argument("--variant", required=True, help="the variant's name, recorded")
        p.set_defaults(func=func)
