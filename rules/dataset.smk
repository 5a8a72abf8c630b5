rule dataset:
    output:
        npz=DATASET,
        json="results/dataset/dataset.json",
    params:
        dataset=config["dataset"],
        splits=config["splits"],
        seed=config["seed"],
    script:
        "../scripts/dataset.py"
