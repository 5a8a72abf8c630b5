# Toolchain images and per-board firmware. Images are tagged by their Dockerfile's hash; the stamp
# of each is an input of the firmware it builds, so an edited Dockerfile rebuilds exactly those.
from tinyeit.workflow import stage_code
import json as _json
from tinyeit.containers import TOOLCHAINS as _TOOLCHAINS
from tinyeit.containers.images import image_inputs as _image_inputs
from tinyeit.firmware import BUILD_KEYS as _BUILD_KEYS, FAMILY_IMAGE as _FAMILY_IMAGE
from tinyeit.firmware.tflm_build import TFLM_IMAGE as _TFLM_IMAGE


def _firmware_image_stamp(wildcards):
    return f"results/images/{_FAMILY_IMAGE[BOARDS[wildcards.board]['family']]}.json"


def _tflm_image_stamp(wildcards):
    image = _TFLM_IMAGE.get(BOARDS[wildcards.board]["family"])
    return [f"results/images/{image}.json"] if image else []


def _board_build_config(wildcards):
    return _json.dumps({k: BOARDS[wildcards.board][k] for k in _BUILD_KEYS if k in BOARDS[wildcards.board]},
                       sort_keys=True)


def _firmware_arduino_stamp(wildcards):
    board = BOARDS[wildcards.board]
    return ["results/images/arduino.json"] if board["family"] == "cortex_m4f" and board.get("fqbn") else []


rule toolchain_image:
    input:
        lambda w: [str(p) for p in _image_inputs(w.image)],
    output:
        "results/images/{image}.json",
    wildcard_constraints:
        image="|".join(_TOOLCHAINS),
    resources:
        docker_build=1,
    shell:
        "tinyeit image {wildcards.image} --stamp {output}"


rule firmware:
    input:
        header="results/codegen/{variant}/model.h",
        source="results/codegen/{variant}/model.c",
        frames=FRAMES,
        code=stage_code("firmware"),
        image=_firmware_image_stamp,
        arduino=_firmware_arduino_stamp,
    output:
        "results/firmware/{board}/aot/{variant}/build.json",
    params:
        board=_board_build_config,
        arduino=lambda w, input: f"--arduino-stamp {input.arduino}" if input.arduino else "",
        n_frames=config["deploy"]["n_frames"],
    shell:
        "tinyeit firmware --board {wildcards.board} --variant {wildcards.variant} --board-config {params.board:q} --codegen results/codegen/{wildcards.variant} --frames {input.frames} --image-stamp {input.image} {params.arduino} --n-frames {params.n_frames} --out results/firmware/{wildcards.board}/aot/{wildcards.variant}"


# The same model through TensorFlow Lite Micro (CMSIS-NN on the Cortex-M4F boards), built in the
# tflm-<family> image whose library comes from the pinned sources of docker/tflm/sources.tsv.
rule firmware_tflm:
    input:
        tflite=TFLITE,
        frames=FRAMES,
        code=stage_code("firmware"),
        image=_tflm_image_stamp,
    output:
        "results/firmware/{board}/tflm/{variant}/build.json",
    params:
        board=_board_build_config,
        stamp=lambda w, input: f"--image-stamp {input.image}" if input.image else "",
        n_frames=config["deploy"]["n_frames"],
    shell:
        "tinyeit firmware --engine tflm --board {wildcards.board} --variant {wildcards.variant} --board-config {params.board:q} --tflite {input.tflite} --frames {input.frames} {params.stamp} --n-frames {params.n_frames} --out results/firmware/{wildcards.board}/tflm/{wildcards.variant}"
