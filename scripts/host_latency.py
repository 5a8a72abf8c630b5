from tinyeit.summary import write_host_latency

write_host_latency(snakemake.params.variant_dirs, snakemake.output[0])  # noqa: F821
