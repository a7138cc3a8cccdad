"""The builder registry and the catalogue agree: adding a feature is a catalogue entry plus a builder."""

from __future__ import annotations

import numpy as np
import pytest

from sprintlab.domain import FAMILIES
from sprintlab.features import bounce_back, control, history, load, registry, strength, timing, wellness
from sprintlab.features.builder import Builder
from sprintlab.features.catalogue import load_catalogue

FAMILY_MODULES = {
    "strength": strength,
    "control": control,
    "timing": timing,
    "bounce_back": bounce_back,
    "load": load,
    "wellness": wellness,
    "history": history,
}


def _nothing(inputs) -> dict[str, np.ndarray]:
    return {}


def test_every_catalogue_feature_has_exactly_one_builder():
    assert registry.registry_problems(registry.BUILDERS, load_catalogue().names) == []
    assert registry.registered_builders() == registry.BUILDERS


def test_each_family_module_builds_its_family_only():
    cat = load_catalogue()
    assert set(FAMILY_MODULES) == set(FAMILIES)
    for family, module in FAMILY_MODULES.items():
        produced = {f for b in module.BUILDERS for f in b.produces}
        assert {cat.family_of(f) for f in produced} == {family}
        assert produced == {f.name for f in cat.features if f.family == family}


@pytest.mark.parametrize(
    ("builders", "problem"),
    [
        ((Builder(("a", "b"), _nothing), Builder(("b",), _nothing)), "b is produced by 2 builders"),
        ((Builder(("a", "b", "extra"), _nothing),), "extra is produced but not in the catalogue"),
        ((Builder(("a",), _nothing),), "b is in the catalogue but no builder produces it"),
        (
            (Builder(("a",), _nothing, uses=("b",)), Builder(("b",), _nothing)),
            "_nothing uses b, which no earlier builder produces",
        ),
    ],
)
def test_registry_problems_are_found(builders, problem):
    assert problem in registry.registry_problems(builders, ["a", "b"])
