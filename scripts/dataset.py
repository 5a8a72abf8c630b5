"""Snakemake adapter of the dataset rule: all logic is in tinyeit.data."""
import tinyeit.data

tinyeit.data.build(snakemake.config["dataset"], snakemake.config["splits"], snakemake.config["seed"],  # noqa: F821
                   snakemake.output.npz, snakemake.output.json)
