"""Exact group Shapley: additivity and known answers (additive games, a product game, the simulator's
own closed-form transfer decomposition)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sprintlab.group_shapley import group_shapley, shapley_weight
from sprintlab.simulate.processes import transfer_mean_change
from sprintlab.simulate.truth import transfer_shapley

RNG = np.random.default_rng(11)


def _frame(n: int, cols: list[str]) -> pd.DataFrame:
    return pd.DataFrame(RNG.normal(size=(n, len(cols))), columns=cols)


def test_weights_sum_to_one_over_coalitions_of_each_player() -> None:
    from math import comb

    k = 5
    assert sum(comb(k - 1, s) * shapley_weight(s, k) for s in range(k)) == pytest.approx(1.0)


def test_additive_game_gives_each_group_its_own_term() -> None:
    x, ref = _frame(30, ["a", "b", "c"]), _frame(7, ["a", "b", "c"])

    def f(d: pd.DataFrame) -> np.ndarray:
        return (2 * d["a"] + d["b"] ** 2 - 3 * d["c"]).to_numpy()

    phi = group_shapley(f, x, ref, {"ab": ["a", "b"], "c": ["c"]})
    expected_ab = 2 * x["a"] + x["b"] ** 2 - (2 * ref["a"] + ref["b"] ** 2).mean()
    expected_c = -3 * (x["c"] - ref["c"].mean())
    np.testing.assert_allclose(phi["ab"], expected_ab, atol=1e-12)
    np.testing.assert_allclose(phi["c"], expected_c, atol=1e-12)


def test_additivity_and_dummy_player_on_a_nonlinear_game() -> None:
    cols = ["a", "b", "c", "d"]
    x, ref = _frame(25, cols), _frame(9, cols)

    def f(d: pd.DataFrame) -> np.ndarray:
        return np.tanh(d["a"] * d["b"]).to_numpy() + np.exp(0.3 * d["c"]).to_numpy()

    phi = group_shapley(f, x, ref, {"a": ["a"], "b": ["b"], "c": ["c"], "dummy": ["d"]})
    total = phi[["a", "b", "c", "dummy"]].sum(axis=1)
    np.testing.assert_allclose(total, phi["full_value"] - phi["reference_value"], atol=1e-12)
    np.testing.assert_allclose(phi["full_value"], f(x), atol=1e-12)
    np.testing.assert_allclose(phi["reference_value"], f(ref).mean(), atol=1e-12)
    np.testing.assert_allclose(phi["dummy"], 0.0, atol=1e-12)


def test_product_game_against_a_point_splits_the_cross_term_evenly() -> None:
    x = pd.DataFrame({"g": [0.1, 0.3], "c": [2.0, -1.0]})
    ref = pd.DataFrame({"g": [0.05], "c": [0.5]})
    phi = group_shapley(lambda d: (d["g"] * d["c"]).to_numpy(), x, ref, {"g": ["g"], "c": ["c"]})
    g, c, gr, cr = x["g"], x["c"], 0.05, 0.5
    np.testing.assert_allclose(phi["g"], (g - gr) * (c + cr) / 2, atol=1e-15)
    np.testing.assert_allclose(phi["c"], (c - cr) * (g + gr) / 2, atol=1e-15)


def test_matches_the_simulator_closed_form_transfer_decomposition() -> None:
    n = 40
    latent = pd.DataFrame(
        {
            "g": RNG.uniform(0, 0.15, n),
            "c": RNG.normal(size=n),
            "k": RNG.normal(size=n),
            "rev": RNG.normal(0, 0.03, n),
            "load": RNG.normal(size=n),
            "sleep": RNG.normal(size=n),
        }
    )
    ref_point = latent.mean().to_frame().T

    def mu(d: pd.DataFrame) -> np.ndarray:
        return transfer_mean_change(*(d[c].to_numpy() for c in latent.columns))

    groups = {
        "strength": ["g"],
        "control": ["c"],
        "timing": ["k"],
        "bounce_back": ["rev"],
        "load": ["load"],
        "wellness": ["sleep"],
    }
    phi = group_shapley(mu, latent, ref_point, groups)
    closed = transfer_shapley(
        *(latent[c].to_numpy() for c in latent.columns),
        {c: float(ref_point[c].iloc[0]) for c in latent.columns},
    )
    for fam in groups:
        np.testing.assert_allclose(phi[fam], closed[fam], atol=1e-12)


def test_rejects_ungrouped_or_doubly_grouped_features() -> None:
    x = _frame(3, ["a", "b"])
    with pytest.raises(ValueError, match="in no group"):
        group_shapley(lambda d: d["a"].to_numpy(), x, x, {"a": ["a"]})
    with pytest.raises(ValueError, match="more than one group"):
        group_shapley(lambda d: d["a"].to_numpy(), x, x, {"a": ["a", "b"], "b": ["b"]})


def test_family_shapley_groups_model_features_by_catalogue_family() -> None:
    from sprintlab.group_shapley import feature_families

    groups = feature_families(["nordic_force_n", "acwr_ewma", "sleep_hours_z", "control_score_8w"])
    assert groups == {
        "strength": ["nordic_force_n"],
        "control": ["control_score_8w"],
        "load": ["acwr_ewma"],
        "wellness": ["sleep_hours_z"],
    }


@pytest.mark.parametrize("leaves", [2, 4, 8])
def test_a_tree_ensembles_additive_path_equals_every_coalition(leaves: int) -> None:
    """A LightGBM model's margin as a sum of trees (``additive_margin``): the trees' own groups'
    coalitions give the same group Shapley values as all 2^k, with missing values and a two-feature
    group; stumps (2 leaves) need only the empty and the full coalition."""
    from sprintlab.group_shapley import _covering_coalitions, additive_group_shapley
    from sprintlab.models.estimator import CalibratedLGBMClassifier

    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(600, 6)), columns=list("abcdef"))
    x.iloc[::17, 2] = np.nan
    y = ((x.a * x.b + x.c.fillna(0) - x.d + rng.normal(size=600)) > 0).astype(int)
    groups = {"g1": ["a"], "g2": ["b", "c"], "g3": ["d"], "g4": ["e", "f"]}
    model = CalibratedLGBMClassifier(n_estimators=60, num_leaves=leaves, random_state=0, cv_folds=3).fit(x, y)
    terms = model.additive_margin()
    np.testing.assert_allclose(terms.term_values(x).sum(axis=1), model._raw(x), atol=1e-12)
    every = group_shapley(model.margin, x.head(40), x.tail(90), groups)
    fast = additive_group_shapley(terms, x.head(40), x.tail(90), groups)
    np.testing.assert_allclose(fast.to_numpy(), every.to_numpy(), atol=1e-12)
    if leaves == 2:
        term_groups = [
            1 << next(i for i, g in enumerate(groups.values()) if f <= set(g)) for f in terms.term_features
        ]
        assert _covering_coalitions(term_groups, 4) == [0, 15]


@pytest.mark.parametrize("zero_as_missing", [False, True])
def test_tree_term_means_decide_every_split_as_lightgbm_does(zero_as_missing: bool) -> None:
    """The leaf-path means (``tree_term_means``) equal the mean of LightGBM's own leaf values over every
    (row, reference row) pair, for rows with values the training data never had: missing values in a
    feature trained without any (LightGBM reads them as 0), zeros (missing under ``zero_as_missing``),
    values exactly on a threshold."""
    import lightgbm as lgb

    from sprintlab.models.estimator import leaf_paths, tree_term_means

    rng = np.random.default_rng(3)
    train = rng.normal(size=(500, 4))
    train[::9, 1] = np.nan
    train[::5, 3] = 0.0
    y = train[:, 0] + np.nan_to_num(train[:, 1]) * train[:, 2] - train[:, 3] + rng.normal(size=500)
    params = {"num_leaves": 6, "verbose": -1, "zero_as_missing": zero_as_missing, "min_data_in_leaf": 5}
    booster = lgb.train(params, lgb.Dataset(train, y), 25)
    trees = booster.dump_model()["tree_info"]
    thresholds = [n["threshold"] for t in trees for n in _split_nodes(t["tree_structure"])]
    rows = rng.normal(size=(30, 4))
    rows[::4, 0] = np.nan  # feature 0 had no missing value in training
    rows[1::4, 2] = 0.0
    rows[2::4, 3] = thresholds[0]
    rows[3::4, 1] = np.nan
    reference = np.vstack([rows[::-1], rng.normal(size=(20, 4))])
    reference[::3, 3] = np.nan
    leaf_value = {
        (j, n["leaf_index"]): n["leaf_value"]
        for j, t in enumerate(trees)
        for n in _leaves(t["tree_structure"])
    }
    paths = leaf_paths(trees)
    for in_s in ([True, False, True, False], [False] * 4, [True] * 4, [False, True, True, True]):
        mask = np.array(in_s)
        mixed = np.where(mask, np.repeat(rows, len(reference), axis=0), np.tile(reference, (len(rows), 1)))
        leaves = booster.predict(mixed, pred_leaf=True)
        values = np.vectorize(lambda j, leaf: leaf_value.get((j, leaf), 0.0))(
            np.arange(len(trees))[None, :], leaves
        )
        expected = values.reshape(len(rows), len(reference), -1).mean(axis=1)
        np.testing.assert_allclose(tree_term_means(paths, rows, reference, mask), expected, atol=1e-12)


def _split_nodes(node: dict) -> list[dict]:
    if "leaf_value" in node:
        return []
    return [node, *_split_nodes(node["left_child"]), *_split_nodes(node["right_child"])]


def _leaves(node: dict) -> list[dict]:
    if "leaf_value" in node:
        return [{"leaf_index": node.get("leaf_index", 0), **node}]
    return [*_leaves(node["left_child"]), *_leaves(node["right_child"])]
