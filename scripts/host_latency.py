"""Snakemake adapter of the host_latency_summary rule: all logic is in tinyeit.summary."""
from tinyeit.joblog import logging_to

with logging_to(snakemake.log[0]):  # noqa: F821
    from tinyeit.summary import write_host_latency

    write_host_latency(snakemake.params.variant_dirs, snakemake.output[0])  # noqa: F821
