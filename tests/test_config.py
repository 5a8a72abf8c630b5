"""The configuration is refused, with the key named, before any job runs."""
import copy
from pathlib import Path

import pytest
import yaml

from tinyeit import config
from tinyeit.config import chains
from tinyeit.errors import TinyEitError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def study():
    return yaml.safe_load((ROOT / "config.yaml").read_text())


def test_default_study_is_valid_and_lists_the_papers_chains(study):
    checked = config.validate(copy.deepcopy(study))
    assert "baseline+kd+fp+ptq_int8" in checked["variants"]
    assert len(checked["variants"]) >= 12
    singles = {v.split("+")[1] for v in checked["variants"] if v.count("+") == 1}
    assert {"kd", "fp", "prune", "cluster", "ptq_dynamic", "ptq_float16", "ptq_int8"} <= singles


@pytest.mark.parametrize("mutate, key", [
    (lambda c: c.update(seed="x"), "seed"),
    (lambda c: c["training"].update(epochs=0), "training.epochs"),
    (lambda c: c["steps"]["kd"].update(temperature="hot"), "steps.kd.temperature"),
    (lambda c: c["steps"]["fp"].update(ratio=1.5), "steps.fp.ratio"),
    (lambda c: c["dataset"].update(source="parquet"), "dataset.source"),
    (lambda c: c["boards"]["nicla_sense"].update(transport="bluetooth"), "boards.nicla_sense.transport"),
    (lambda c: c["steps"]["kd"].update(temprature=2.0), "steps.kd"),
    (lambda c: c.update(epochs=3), "(top level)"),
])
def test_wrong_key_type_or_value_names_the_key(study, mutate, key):
    mutate(study)
    with pytest.raises(TinyEitError) as err:
        config.validate(study, "my.yaml")
    assert str(err.value).startswith(f"my.yaml: {key}:"), str(err.value)


@pytest.mark.parametrize("variant, words", [
    ("baseline+ptq_int8+kd", "after the terminal conversion 'ptq_int8'"),
    ("baseline+magic", "unknown step"),
    ("kd+fp", "starts with 'baseline'"),
    ("baseline+kd+kd", "step repeated"),
    ("baseline+qat", "'qat' must be followed by 'ptq_int8'"),
    ("baseline+qat+ptq_float16", "only be followed by 'ptq_int8'"),
    ("baseline+float+ptq_int8", "after the terminal conversion 'float'"),
])
def test_illegal_chains_are_refused_with_the_step_named(study, variant, words):
    study["variants"] = ["baseline", variant]
    with pytest.raises(TinyEitError, match="variants.1") as err:
        config.validate(study)
    assert words in str(err.value)


def test_unconfigured_step_and_overlapping_trials_are_refused(study):
    broken = copy.deepcopy(study)
    del broken["steps"]["cluster"]
    with pytest.raises(TinyEitError, match="steps.cluster is not configured"):
        config.validate(broken)
    study["splits"]["test_trials"] = [8, 9]
    with pytest.raises(TinyEitError, match=r"trials \[8\] are in both"):
        config.validate(study)


def test_deploy_variants_override_and_unknown_names(study):
    study["deploy_variants"] = "baseline, baseline+kd+fp+ptq_int8"
    assert config.deploy_variants(study) == ["baseline", "baseline+kd+fp+ptq_int8"]
    study["deploy_variants"] = "baseline+nope"
    with pytest.raises(TinyEitError, match="deploy_variants: baseline\\+nope not among"):
        config.deploy_variants(study)


def test_chain_algebra():
    assert chains.model_chain("baseline+kd+fp+ptq_int8") == "baseline+kd+fp"
    assert chains.conversion("baseline+kd+fp+ptq_int8") == "ptq_int8"
    assert chains.conversion("baseline+kd") == "float"
    assert chains.prefix("baseline+kd+fp") == "baseline+kd"
    assert chains.prefix("baseline") is None
    assert chains.model_chains(["baseline+kd+fp+ptq_int8", "baseline+ptq_int8"]) == [
        "baseline", "baseline+kd", "baseline+kd+fp"]


def test_load_reports_missing_and_malformed_files(tmp_path):
    with pytest.raises(TinyEitError, match="no such config file"):
        config.load(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: [1,\n")
    with pytest.raises(TinyEitError, match="bad.yaml: not valid YAML"):
        config.load(bad)


@pytest.mark.parametrize("engines, words", [
    (["aot", "tinygrad"], "engines.1: 'tinygrad' is not one of ['aot', 'tflm']"),
    ([], "engines: [] should be non-empty"),
    (["tflm", "tflm"], "engines: ['tflm', 'tflm'] has non-unique elements"),
    ("tflm", "engines: 'tflm' is not of type 'array'"),
])
def test_engines_are_checked_with_the_key_named(study, engines, words):
    study["engines"] = engines
    with pytest.raises(TinyEitError) as err:
        config.validate(study, "my.yaml")
    assert str(err.value).startswith(f"my.yaml: {words}"), str(err.value)


def test_engines_default_to_both_in_a_fixed_order(study):
    study.pop("engines", None)
    assert config.engines(config.validate(study)) == ["aot", "tflm"]
    study["engines"] = ["tflm", "aot"]
    assert config.engines(config.validate(study)) == ["aot", "tflm"]
    study["engines"] = ["tflm"]
    assert config.engines(config.validate(study)) == ["tflm"]
