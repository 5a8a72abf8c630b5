from tinyeit.summary import write

write(snakemake.config, snakemake.input.dataset, snakemake.params.variant_dirs,
      list(snakemake.input.deployments), snakemake.output[0])
