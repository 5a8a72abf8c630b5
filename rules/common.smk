# Names shared by every stage's rules, and the input functions they use: the stage files hold
# rules only.
import json
import os
from tinyeit import config as study_config
from tinyeit.config import chains
from tinyeit.containers import TOOLCHAINS, dockerfile_path
from tinyeit.containers.images import image_inputs
from tinyeit.firmware import BUILD_KEYS, FAMILY_IMAGE
from tinyeit.firmware.tflm_build import TFLM_IMAGE
from tinyeit.workflow import stage_code

VARIANTS = list(config["variants"])
BOARDS = dict(config["boards"])
DEPLOY_VARIANTS = study_config.deploy_variants(config)
ENGINES = study_config.engines(config)
MODEL_CHAINS = chains.model_chains(VARIANTS)
FOLDS = [f"fold{k}" for k in range(config["splits"]["n_folds"])]
DATASET = "results/dataset/dataset.npz"
TFLITE = "results/tflite/{variant}/model.tflite"
FRAMES = "results/tflite/{variant}/frames.npz"
# Every Python rule (the `tinyeit` command or a script) runs in the project's pinned stack.
ENV = "../envs/tinyeit.yaml"


wildcard_constraints:
    variant=chains.CHAIN_PATTERN,
    chain=chains.CHAIN_PATTERN,
    board="|".join(BOARDS),


def model_files(chain):
    """The models one chain step writes: one per CV fold, and the deployed one."""
    return [f"results/models/{chain}/{name}.h5" for name in FOLDS + ["full"]]


def training_params():
    """What every retraining step depends on besides its own parameters."""
    return {
        "seed": config["seed"],
        "training": config["training"],
        "splits": config["splits"],
    }


def output_dir(wildcards, output):
    """The folder of a rule's outputs (its `cv` or first output), for a param that names it."""
    return os.path.dirname(output.get("cv", output[0]))


def firmware_image_stamp(wildcards):
    """The toolchain image a board's firmware is built in."""
    return f"results/images/{FAMILY_IMAGE[BOARDS[wildcards.board]['family']]}.json"


def tflm_image_stamp(wildcards):
    """The TFLite Micro image a board's tflm firmware is built in (tflm-<family>)."""
    image = TFLM_IMAGE.get(BOARDS[wildcards.board]["family"])
    return [f"results/images/{image}.json"] if image else []


def image_build_inputs(wildcards):
    """Every file an image's tag hashes: its Dockerfile, base image's, build script, source pins."""
    return [str(p) for p in image_inputs(wildcards.image)]


def firmware_arduino_stamp(wildcards):
    """The Arduino image, for a Cortex-M board that names its Arduino board (fqbn)."""
    board = BOARDS[wildcards.board]
    if board["family"] == "cortex_m4f" and board.get("fqbn"):
        return ["results/images/arduino.json"]
    return []


def firmware_esp_idf_stamp(wildcards):
    """The ESP-IDF image, for an ESP32 board (its real-board firmware; the emulated one is bare metal)."""
    return (
        ["results/images/esp-idf.json"]
        if BOARDS[wildcards.board]["family"] == "esp32"
        else []
    )


def board_build_settings(wildcards):
    """The board settings that shape the firmware image, as JSON (a power figure is not one)."""
    board = BOARDS[wildcards.board]
    return json.dumps({k: board[k] for k in BUILD_KEYS if k in board}, sort_keys=True)


def board_resource(key):
    """A profile job holds one unit of its own board's resource, none of the others'."""
    return lambda wildcards: int(wildcards.board == key)
