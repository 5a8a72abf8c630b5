# The project's own inference engine: the .tflite as plain C, the same for every board.

rule codegen:
    input:
        TFLITE,
    output:
        header="results/codegen/{variant}/model.h",
        source="results/codegen/{variant}/model.c",
        kernels_header="results/codegen/{variant}/tinyeit_kernels.h",
        kernels_source="results/codegen/{variant}/tinyeit_kernels.c",
    shell:
        "tinyeit codegen {input} results/codegen/{wildcards.variant}"
