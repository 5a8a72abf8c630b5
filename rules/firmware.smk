# Toolchain images and per-board firmware. Images are tagged by their Dockerfile's hash; the stamp
# of each is an input of the firmware it builds, so an edited Dockerfile rebuilds exactly those.
from tinyeit.workflow import stage_code
import json as _json
from tinyeit.containers import TOOLCHAINS as _TOOLCHAINS, dockerfile_path as _dockerfile_path
from tinyeit.firmware import BUILD_KEYS as _BUILD_KEYS, FAMILY_IMAGE as _FAMILY_IMAGE


def _firmware_image_stamp(wildcards):
    return f"results/images/{_FAMILY_IMAGE[BOARDS[wildcards.board]['family']]}.json"


def _firmware_arduino_stamp(wildcards):
    board = BOARDS[wildcards.board]
    return ["results/images/arduino.json"] if board["family"] == "cortex_m4f" and board.get("fqbn") else []


rule toolchain_image:
    input:
        lambda w: str(_dockerfile_path(w.image)),
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
        "results/firmware/{board}/{variant}/build.json",
    params:
        board=lambda w: _json.dumps({k: BOARDS[w.board][k] for k in _BUILD_KEYS if k in BOARDS[w.board]},
                                    sort_keys=True),
        arduino=lambda w, input: f"--arduino-stamp {input.arduino}" if input.arduino else "",
        n_frames=config["deploy"]["n_frames"],
    shell:
        "tinyeit firmware --board {wildcards.board} --variant {wildcards.variant} --board-config {params.board:q} --codegen results/codegen/{wildcards.variant} --frames {input.frames} --image-stamp {input.image} {params.arduino} --n-frames {params.n_frames} --out results/firmware/{wildcards.board}/{wildcards.variant}"
