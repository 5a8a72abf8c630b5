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
