"""params.yaml is the one place for defaults: the config models only type and bound its values."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from sprintlab import config
from sprintlab.config import Params, load_params

ROOT = Path(__file__).resolve().parents[1]
MODELS = {
    name: obj
    for name, obj in vars(config).items()
    if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == config.__name__
}


def _raw() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))


def test_params_yaml_loads():
    params = load_params(ROOT / "params.yaml")
    assert params.train.hamstring.learn_from == "label" and params.validate_.today is None


@pytest.mark.parametrize("name", sorted(MODELS))
def test_config_models_have_no_defaults(name):
    model = MODELS[name]
    assert [f for f, info in model.model_fields.items() if not info.is_required()] == []


def test_every_key_is_required_and_unknown_keys_are_errors(tmp_path):
    raw = _raw()
    del raw["simulate"]["sex"]
    with pytest.raises(ValidationError, match="simulate.sex"):
        Params.model_validate(raw)
    raw = _raw()
    raw["train"]["seed"] = 42  # once declared, never read: gone
    with pytest.raises(ValidationError, match="train.seed"):
        Params.model_validate(raw)


def test_bounds_are_kept_and_params_are_frozen():
    raw = _raw()
    raw["simulate"]["athletes"] = 1
    with pytest.raises(ValidationError, match="greater than or equal to 2"):
        Params.model_validate(raw)
    params = Params.model_validate(_raw())
    with pytest.raises(ValidationError, match="frozen"):
        params.simulate.athletes = 3  # type: ignore[misc]


def test_no_code_builds_params_from_literals():
    """Parameters come from a parameter file (``load_params``), changed only by ``model_copy``."""
    offenders = []
    for path in sorted((ROOT / "src" / "sprintlab").rglob("*.py")):
        if path.name == "config.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name in MODELS:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}(...)")
    assert offenders == []
