"""Load and check the study's configuration before any job runs.

The JSON schema catches wrong keys, types and values; the chain grammar catches variants that
cannot be built. Every message names the key (as a dotted path) and the file.
"""
from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml

from tinyeit.config import chains
from tinyeit.errors import TinyEitError

SCHEMA_PATH = Path(__file__).with_name("config.schema.yaml")


def schema() -> dict:
    return yaml.safe_load(SCHEMA_PATH.read_text())


def _key_path(error: jsonschema.ValidationError) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    return path or "(top level)"


def validate(config: dict, source: str = "config") -> dict:
    """Raise TinyEitError naming the first wrong key; return the config with defaults filled."""
    if not isinstance(config, dict):
        raise TinyEitError(f"{source}: expected a mapping of keys, got {type(config).__name__}")
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: (list(e.absolute_path), e.message))
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        message = first.message
        if first.validator == "additionalProperties":
            message = f"unknown key: {first.message}"
        raise TinyEitError(f"{source}: {_key_path(first)}: {message}{more}")
    for i, variant in enumerate(config["variants"]):
        try:
            chains.check(variant)
        except TinyEitError as exc:
            raise TinyEitError(f"{source}: variants.{i}: {exc}") from None
        for step in chains.steps(variant):
            if step in ("kd", "fp", "prune", "cluster", "qat") and step not in config["steps"]:
                raise TinyEitError(
                    f"{source}: variants.{i}: variant '{variant}' uses step '{step}' "
                    f"but steps.{step} is not configured")
        if chains.conversion(variant) == "ptq_int8" and "ptq_int8" not in config["steps"]:
            raise TinyEitError(f"{source}: variants.{i}: '{variant}' needs steps.ptq_int8")
    overlap = set(config["splits"]["cv_trials"]) & set(config["splits"]["test_trials"])
    if overlap:
        raise TinyEitError(
            f"{source}: splits: trials {sorted(overlap)} are in both cv_trials and test_trials")
    deploy = deploy_variants(config, source)
    del deploy
    _fill_defaults(config)
    return config


ENGINES = ("aot", "tflm")


def engines(config: dict) -> list[str]:
    """The configured engines, in the order aot, tflm (default: both)."""
    chosen = config.get("engines") or list(ENGINES)
    return [e for e in ENGINES if e in chosen]


def _fill_defaults(config: dict) -> None:
    config.setdefault("engines", list(ENGINES))
    config["dataset"].setdefault("label_column", "label")
    config["dataset"].setdefault("normalize", "l2")
    config["dataset"].setdefault("path", None)
    report = config.setdefault("report", {})
    report.setdefault("max_accuracy_drop", 0.1)
    report.setdefault("max_latency_ms", None)


def load(path: str | Path) -> dict:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise TinyEitError(f"{path}: no such config file") from None
    except yaml.YAMLError as exc:
        raise TinyEitError(f"{path}: not valid YAML: {exc}") from None
    return validate(data, str(path))


def deploy_variants(config: dict, source: str = "config") -> list[str]:
    """The variants to flash: `deploy_variants` (comma list, from the command line) wins."""
    override = config.get("deploy_variants")
    if override:
        chosen = [v.strip() for v in str(override).split(",") if v.strip()]
        key = "deploy_variants"
    elif config["deploy"]["variants"] == "all":
        return list(config["variants"])
    else:
        chosen, key = list(config["deploy"]["variants"]), "deploy.variants"
    unknown = [v for v in chosen if v not in config["variants"]]
    if unknown:
        raise TinyEitError(
            f"{source}: {key}: {', '.join(unknown)} not among the study's variants "
            f"({', '.join(config['variants'])})")
    return chosen
