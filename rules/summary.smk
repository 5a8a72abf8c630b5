# Everything measured, in one file: the report's only input.
from tinyeit.workflow import stage_code


rule summary:
    input:
        dataset="results/dataset/dataset.json",
        code=stage_code("summary"),
        variants=expand(
            "results/tflite/{variant}/{name}",
            variant=VARIANTS,
            name=["metrics.json", "accuracy.json", "model.tflite"],
        ),
        deployments=expand(
            "results/deploy/{board}/{variant}/profile.json",
            board=sorted(BOARDS),
            variant=DEPLOY_VARIANTS,
        ),
    output:
        "results/summary.json",
    log:
        "logs/summary.log",
    conda:
        ENV
    params:
        variant_dirs={v: f"results/tflite/{v}" for v in VARIANTS},
        boards=BOARDS,
        report=config.get("report"),
    script:
        "../scripts/summary.py"
