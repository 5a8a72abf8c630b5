"""Snakemake adapter of the training rules (baseline and every step): logic in tinyeit.compress."""
from tinyeit.joblog import logging_to

with logging_to(snakemake.log[0]):  # noqa: F821
    from tinyeit.compress import run_step

    run_step(snakemake.params.step, snakemake.wildcards.get("chain", "baseline"), snakemake.config,  # noqa: F821
             snakemake.input.dataset, snakemake.params.prefix_dir, snakemake.params.out_dir)  # noqa: F821
