# One rule per step. A step's input is the models of its chain's prefix; its params are only
# what it depends on, so changing one step's parameter reruns exactly the chains holding it.
from tinyeit.workflow import stage_code


rule baseline:
    input:
        dataset=DATASET,
        code=stage_code("models", "compress"),
    output:
        models=model_files("baseline"),
        cv="results/models/baseline/cv.json",
    log:
        "logs/train/baseline.log",
    benchmark:
        "benchmarks/train/baseline.tsv"
    conda:
        ENV
    resources:
        mem_mb=3000,
    params:
        step="baseline",
        chain="baseline",
        prefix_dir=None,
        out_dir=output_dir,
        step_config=config["steps"]["baseline"],
        common=training_params(),
    script:
        "../scripts/step.py"


# The retraining steps share one shape: a loop makes one named rule per step.
for _step in chains.TRAINING_STEPS:

    rule:
        name:
            _step
        input:
            dataset=DATASET,
            prefix=lambda w: model_files(chains.prefix(w.chain)),
            code=stage_code("models", "compress"),
        output:
            models=model_files(rf"{{chain,[a-z0-9_+]+\+{_step}}}"),
            cv="results/models/{chain}/cv.json",
        log:
            "logs/train/{chain}.log",
        benchmark:
            "benchmarks/train/{chain}.tsv"
        conda:
            ENV
        resources:
            mem_mb=3000,
        params:
            step=_step,
            prefix_dir=lambda w: f"results/models/{chains.prefix(w.chain)}",
            out_dir=output_dir,
            step_config=config["steps"].get(_step),
            common=training_params(),
        script:
            "../scripts/step.py"
