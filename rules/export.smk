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
