# A variant becomes one .tflite file, its accuracy (CV and test, through LiteRT), its metrics
# and the test frames that the firmware embeds.
from tinyeit.workflow import stage_code


rule export:
    input:
        dataset=DATASET,
        models=lambda w: model_files(chains.model_chain(w.variant)),
        code=stage_code("export"),
    output:
        tflite=TFLITE,
        accuracy="results/tflite/{variant}/accuracy.json",
        metrics="results/tflite/{variant}/metrics.json",
        frames=FRAMES,
    log:
        "logs/export/{variant}.log",
    benchmark:
        "benchmarks/export/{variant}.tsv"
    conda:
        ENV
    resources:
        mem_mb=3000,
    params:
        conversion=lambda w: chains.conversion(w.variant),
        ptq=lambda w: config["steps"].get(chains.conversion(w.variant)),
        n_frames=config["deploy"]["n_frames"],
        model_dir=lambda w: f"results/models/{chains.model_chain(w.variant)}",
        out_dir=output_dir,
        common=training_params(),
    script:
        "../scripts/export.py"


# Host cost of a variant through LiteRT, apart from the export so that a re-measure
# (`snakemake --forcerun host_latency`) reruns nothing upstream. Wall-clock figures exist only
# in host_latency.json; the instruction count (callgrind) is deterministic.
rule host_latency:
    input:
        tflite=TFLITE,
        frames=FRAMES,
        code=stage_code("export"),
    output:
        "results/tflite/{variant}/host_latency.json",
    log:
        "logs/host_latency/{variant}.log",
    conda:
        ENV
    threads: workflow.cores  # no other job of this workflow runs beside the timing
    shell:
        "tinyeit host-latency --variant {wildcards.variant} {input.tflite} {input.frames} {output} > {log} 2>&1"


rule host_instructions:
    input:
        tflite=TFLITE,
        frames=FRAMES,
        code=stage_code("export"),
    output:
        "results/tflite/{variant}/host_instructions.json",
    log:
        "logs/host_instructions/{variant}.log",
    benchmark:
        "benchmarks/host_instructions/{variant}.tsv"
    conda:
        ENV
    resources:
        mem_mb=1000,
    shell:
        "tinyeit host-instructions --variant {wildcards.variant} {input.tflite} {input.frames} {output} > {log} 2>&1"
