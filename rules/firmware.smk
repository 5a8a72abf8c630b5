# Toolchain images and per-board firmware. Images are tagged by their Dockerfile's hash; the stamp
# of each is an input of the firmware it builds, so an edited Dockerfile rebuilds exactly those.
from tinyeit.workflow import module_code, stage_code


rule toolchain_image:
    input:
        image_build_inputs,
    output:
        "results/images/{image}.json",
    log:
        "logs/images/{image}.log",
    wildcard_constraints:
        image="|".join(TOOLCHAINS),
    conda:
        ENV
    resources:
        docker_build=1,
    shell:
        "tinyeit image {wildcards.image} --stamp {output} > {log} 2>&1"


rule firmware:
    input:
        header="results/codegen/{variant}/model.h",
        source="results/codegen/{variant}/model.c",
        weights="results/codegen/{variant}/weights.json",
        frames=FRAMES,
        code=stage_code("firmware"),
        image=firmware_image_stamp,
        arduino=firmware_arduino_stamp,
        esp_idf=firmware_esp_idf_stamp,
    output:
        "results/firmware/{board}/aot/{variant}/build.json",
    log:
        "logs/firmware/{board}/aot/{variant}.log",
    benchmark:
        "benchmarks/firmware/{board}/aot/{variant}.tsv"
    conda:
        ENV
    params:
        board=board_build_settings,
        arduino=lambda w, input: (
            f"--arduino-stamp {input.arduino}" if input.arduino else ""
        )
        + (f" --esp-idf-stamp {input.esp_idf}" if input.esp_idf else ""),
        n_frames=config["deploy"]["n_frames"],
    shell:
        "tinyeit firmware --board {wildcards.board} --variant {wildcards.variant} --board-config {params.board:q} --codegen results/codegen/{wildcards.variant} --frames {input.frames} --image-stamp {input.image} {params.arduino} --n-frames {params.n_frames} --out results/firmware/{wildcards.board}/aot/{wildcards.variant} > {log} 2>&1"


# The same model through TensorFlow Lite Micro (CMSIS-NN on the Cortex-M4F boards), built in the
# tflm-<family> image whose library comes from the pinned sources of docker/tflm/sources.tsv.
rule firmware_tflm:
    input:
        tflite=TFLITE,
        frames=FRAMES,
        code=stage_code("firmware")
        + module_code("codegen/weight_formats.py", "codegen/model_reader.py"),
        image=tflm_image_stamp,
    output:
        "results/firmware/{board}/tflm/{variant}/build.json",
    log:
        "logs/firmware/{board}/tflm/{variant}.log",
    benchmark:
        "benchmarks/firmware/{board}/tflm/{variant}.tsv"
    conda:
        ENV
    params:
        board=board_build_settings,
        stamp=lambda w, input: f"--image-stamp {input.image}" if input.image else "",
        n_frames=config["deploy"]["n_frames"],
    shell:
        "tinyeit firmware --engine tflm --board {wildcards.board} --variant {wildcards.variant} --board-config {params.board:q} --tflite {input.tflite} --frames {input.frames} {params.stamp} --n-frames {params.n_frames} --out results/firmware/{wildcards.board}/tflm/{wildcards.variant} > {log} 2>&1"
