"""Snakemake adapter of the dataset rule: all logic is in tinyeit.data."""
from tinyeit.joblog import logging_to

with logging_to(snakemake.log[0]):  # noqa: F821
    import tinyeit.data

    tinyeit.data.build(snakemake.config["dataset"], snakemake.config["splits"],  # noqa: F821
                       snakemake.config["seed"], snakemake.output.npz, snakemake.output.json)  # noqa: F821
