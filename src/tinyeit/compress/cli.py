"""`tinyeit step`: run one chain step outside Snakemake (same call as the workflow's rule)."""
from __future__ import annotations


def _step(args) -> int:
    from tinyeit import config as study_config
    from tinyeit.compress import run_step

    chain = args.chain
    step = chain.split("+")[-1]
    prefix = "+".join(chain.split("+")[:-1]) or None
    prefix_dir = args.prefix_dir or (f"{args.models}/{prefix}" if prefix else None)
    run_step(step, chain, study_config.load(args.config), args.dataset, prefix_dir,
             args.out_dir or f"{args.models}/{chain}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "step", help="train a chain's last step on every fold and on all CV trials")
    p.add_argument("chain", help="e.g. baseline+kd: applies 'kd' to the models of 'baseline'")
    p.add_argument("--config", default="config.yaml")
    p.add_argument("--dataset", default="results/dataset/dataset.npz")
    p.add_argument("--models", default="results/models", help="folder of all chains' models")
    p.add_argument("--prefix-dir", help="models of the chain's prefix (default: MODELS/<prefix>)")
    p.add_argument("--out-dir", help="where to write (default: MODELS/<chain>)")
    p.set_defaults(func=_step)
