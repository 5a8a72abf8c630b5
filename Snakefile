# tinyeit: EIT gesture recognition, compressed, deployed and profiled on boards.
# Thin on purpose: the rules are in rules/, the logic in src/tinyeit/.
import sys
from snakemake.utils import validate as snakemake_validate
from tinyeit import config as study_config
from tinyeit.errors import TinyEitError
from tinyeit.workflow import prepare_job_environment

# Jobs inherit this environment: Keras 2 for tfmot, and the `tinyeit` command of the Python
# that runs Snakemake, also when the venv is not activated.
prepare_job_environment()


configfile: "config.yaml"


report: "report/workflow.rst"


try:
    study_config.validate(
        config,
        (
            workflow.overwrite_configfiles[0]
            if workflow.overwrite_configfiles
            else "config.yaml"
        ),
    )
except TinyEitError as error:
    sys.exit(f"tinyeit: invalid configuration: {error}")
snakemake_validate(config, str(study_config.SCHEMA_PATH))


include: "rules/common.smk"
include: "rules/dataset.smk"
include: "rules/train.smk"
include: "rules/export.smk"
include: "rules/codegen.smk"
include: "rules/firmware.smk"
include: "rules/deploy.smk"
include: "rules/summary.smk"
include: "rules/report.smk"
include: "rules/manifest.smk"


rule all:
    default_target: True
    input:
        "results/summary.json",
        rules.report.output,
        rules.manifest.output,
