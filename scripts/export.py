"""Snakemake adapter of the export rule: all logic is in tinyeit.export."""
from tinyeit.joblog import logging_to

with logging_to(snakemake.log[0]):  # noqa: F821
    from tinyeit.export import run_export

    run_export(snakemake.wildcards.variant, snakemake.config, snakemake.input.dataset,  # noqa: F821
               snakemake.params.model_dir, snakemake.params.out_dir)  # noqa: F821
