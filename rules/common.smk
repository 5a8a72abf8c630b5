# Names shared by every stage's rules.
from tinyeit import config as study_config
from tinyeit.config import chains

VARIANTS = list(config["variants"])
BOARDS = dict(config["boards"])
DEPLOY_VARIANTS = study_config.deploy_variants(config)
ENGINES = study_config.engines(config)
MODEL_CHAINS = chains.model_chains(VARIANTS)
FOLDS = [f"fold{k}" for k in range(config["splits"]["n_folds"])]
DATASET = "results/dataset/dataset.npz"
TFLITE = "results/tflite/{variant}/model.tflite"
FRAMES = "results/tflite/{variant}/frames.npz"

wildcard_constraints:
    variant=chains.CHAIN_PATTERN,
    chain=chains.CHAIN_PATTERN,
    board="|".join(BOARDS),


def model_files(chain):
    """The models one chain step writes: one per CV fold, and the deployed one."""
    return [f"results/models/{chain}/{name}.h5" for name in FOLDS + ["full"]]


def training_params():
    """What every retraining step depends on besides its own parameters."""
    return {"seed": config["seed"], "training": config["training"], "splits": config["splits"]}

