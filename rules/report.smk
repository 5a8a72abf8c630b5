# The report: every table, plot and recommendation, from results/summary.json alone.
# Registered with Snakemake's report machinery too: `snakemake --report report.zip`.
from tinyeit.workflow import stage_code


rule report:
    input:
        summary="results/summary.json",
        host_latency="results/host_latency.json",
        code=stage_code("report"),
    output:
        html=report(
            "results/report/index.html",
            caption="../report/index.rst",
            category="Report",
            labels={"item": "report page"},
        ),
        paper=report(
            "results/report/paper.csv",
            caption="../report/paper.rst",
            category="Report",
            labels={"item": "this run against the paper"},
        ),
        variants=report(
            "results/report/variants.csv",
            caption="../report/variants.rst",
            category="Variants",
            labels={"item": "variants table"},
        ),
        accuracy_vs_size=report(
            "results/report/accuracy_vs_size.png",
            caption="../report/accuracy_vs_size.rst",
            category="Variants",
            labels={"item": "accuracy against size"},
        ),
        gains=report(
            "results/report/gains.csv",
            caption="../report/gains.rst",
            category="Gains",
            labels={"item": "gains table"},
        ),
        gains_plot=report(
            "results/report/gains.png",
            caption="../report/gains_plot.rst",
            category="Gains",
            labels={"item": "gains chart"},
        ),
        engines=report(
            "results/report/engines.csv",
            caption="../report/engines.rst",
            category="Boards",
            labels={"item": "engines table"},
        ),
        engines_plot=report(
            "results/report/engines.png",
            caption="../report/engines_plot.rst",
            category="Boards",
            labels={"item": "engines chart"},
        ),
        deployments=report(
            "results/report/deployments.csv",
            caption="../report/deployments.rst",
            category="Boards",
            labels={"item": "deployments table"},
        ),
        board_plots=[
            report(
                f"results/report/latency_{board}.png",
                caption="../report/board_latency.rst",
                category="Boards",
                labels={"item": f"accuracy against latency: {board}"},
            )
            for board in sorted(BOARDS)
        ],
    log:
        "logs/report.log",
    conda:
        ENV
    shell:
        "tinyeit report {input.summary} results/report --host-latency {input.host_latency} > {log} 2>&1"
