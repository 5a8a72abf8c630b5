"""Snakemake adapter: generate the C sources of one variant."""
import tinyeit.codegen

tinyeit.codegen.generate(snakemake.input[0], snakemake.params.out_dir)  # noqa: F821
