# The project's own inference engine: the .tflite as plain C, the same for every board.
from tinyeit.workflow import stage_code


rule codegen:
    input:
        tflite=TFLITE,
        code=stage_code("codegen"),
    output:
        header="results/codegen/{variant}/model.h",
        source="results/codegen/{variant}/model.c",
        kernels_header="results/codegen/{variant}/tinyeit_kernels.h",
        kernels_source="results/codegen/{variant}/tinyeit_kernels.c",
        kernels_stored="results/codegen/{variant}/tinyeit_kernels_stored.c",
        kernels_hybrid="results/codegen/{variant}/tinyeit_kernels_hybrid.c",
        kernels_common="results/codegen/{variant}/tinyeit_common.h",
        kernels_cortex_m="results/codegen/{variant}/tinyeit_cm_dot.h",
        kernels_aarch64="results/codegen/{variant}/tinyeit_a64_f32.h",
        kernels_aarch64_s8="results/codegen/{variant}/tinyeit_a64_s8.h",
        weights="results/codegen/{variant}/weights.json",
    log:
        "logs/codegen/{variant}.log",
    conda:
        ENV
    shell:
        "tinyeit codegen {input.tflite} results/codegen/{wildcards.variant} > {log} 2>&1"
