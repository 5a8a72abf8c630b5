from tinyeit.workflow import stage_code


rule dataset:
    input:
        code=stage_code("data"),
    output:
        npz=DATASET,
        json="results/dataset/dataset.json",
    log:
        "logs/dataset.log",
    conda:
        ENV
    params:
        dataset=config["dataset"],
        splits=config["splits"],
        seed=config["seed"],
    script:
        "../scripts/dataset.py"
