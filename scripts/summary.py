"""Snakemake adapter of the summary rule: all logic is in tinyeit.summary."""
from tinyeit.joblog import logging_to

with logging_to(snakemake.log[0]):  # noqa: F821
    from tinyeit.summary import write

    write(snakemake.config, snakemake.input.dataset, snakemake.params.variant_dirs,  # noqa: F821
          list(snakemake.input.deployments), snakemake.output[0])  # noqa: F821
