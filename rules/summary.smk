# Everything the study produced, in two files: summary.json (deterministic) and, apart, the
# measured host latencies (wall-clock, load-dependent). Together they are the report's inputs.
from tinyeit.workflow import stage_code


rule summary:
    input:
        dataset="results/dataset/dataset.json",
        code=stage_code("summary"),
        variants=expand(
            "results/tflite/{variant}/{name}",
            variant=VARIANTS,
            name=[
                "metrics.json",
                "accuracy.json",
                "model.tflite",
                "host_instructions.json",
            ],
        ),
        deployments=expand(
            "results/deploy/{board}/{engine}/{variant}/profile.json",
            board=sorted(BOARDS),
            engine=ENGINES,
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


rule host_latency_summary:
    input:
        code=stage_code("summary"),
        variants=expand("results/tflite/{variant}/host_latency.json", variant=VARIANTS),
    output:
        "results/host_latency.json",
    log:
        "logs/host_latency_summary.log",
    conda:
        ENV
    params:
        variant_dirs={v: f"results/tflite/{v}" for v in VARIANTS},
    script:
        "../scripts/host_latency.py"
