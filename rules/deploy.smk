# Flash (or emulate) each variant's firmware on each board and profile it: one profile.json per
# (board, variant) pair, on the board's configured transport (emulator, serial or ssh).
#
# One board, one job at a time: every profile job holds `board_<key>=1`. The limit defaults to 1
# per board (set below unless `--resources board_<key>=N` was given on the command line). The
# resources are global-scoped, so under a cluster executor (e.g. --executor slurm) the main
# Snakemake process still never submits two jobs holding the same board at once.
from tinyeit.workflow import stage_code
import json

for _board in BOARDS:
    if f"board_{_board}" not in workflow.global_resources:
        workflow.register_resource(f"board_{_board}", 1)


resource_scopes:
    **{f"board_{key}": "global" for key in BOARDS},


rule profile:
    input:
        build="results/firmware/{board}/{engine}/{variant}/build.json",
        frames=FRAMES,
        metrics="results/tflite/{variant}/metrics.json",
        tflite=TFLITE,
        code=stage_code("deploy"),
    output:
        "results/deploy/{board}/{engine}/{variant}/profile.json",
    wildcard_constraints:
        engine="aot|tflm",
    log:
        "logs/profile/{board}/{engine}/{variant}.log",
    benchmark:
        "benchmarks/profile/{board}/{engine}/{variant}.tsv"
    conda:
        ENV
    resources:
        **{f"board_{key}": board_resource(key) for key in BOARDS},
    params:
        board=lambda w: json.dumps(BOARDS[w.board], sort_keys=True),
    shell:
        "tinyeit profile --board {wildcards.board} --engine {wildcards.engine} --variant {wildcards.variant} --board-config {params.board:q} --build {input.build} --frames {input.frames} --metrics {input.metrics} --tflite {input.tflite} --out {output} > {log} 2>&1"


# flash_<alias>: every deploy variant on one board with every engine (`snakemake flash_nicla`).
for _key, _settings in BOARDS.items():

    rule:
        name:
            f"flash_{_settings.get('alias', _key)}"
        input:
            expand(
                "results/deploy/{board}/{engine}/{variant}/profile.json",
                board=_key,
                engine=ENGINES,
                variant=DEPLOY_VARIANTS,
            ),
