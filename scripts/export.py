from tinyeit.export import run_export; run_export(snakemake.wildcards.variant, snakemake.config, snakemake.input.dataset, snakemake.params.model_dir, snakemake.params.out_dir)  # noqa: F821,E702
