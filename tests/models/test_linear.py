"""The shipped linear-interaction transfer model: scikit-learn API, one definition with the
baseline, exact Shapley contributions, bootstrap members."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sprintlab.models.linear import INTERACTION_COLUMN, InteractionLogisticClassifier
from sprintlab.models.transfer_baselines import INTERACTION_PAIR, transfer_baselines

A, B = INTERACTION_PAIR


def _data(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """A pure strength x control product effect plus one main effect (some values missing)."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(
        {
            A: rng.normal(8, 2, n),
            B: rng.normal(0, 1, n),
            "first_step_contact_ms": rng.normal(180, 10, n),
        }
    )
    logit = 1.5 * (x[A] - 8) / 2 * x[B] - 0.05 * (x["first_step_contact_ms"] - 180)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int).to_numpy()
    x.loc[x.sample(frac=0.05, random_state=1).index, "first_step_contact_ms"] = np.nan
    return x, y


@parametrize_with_checks(
    [
        InteractionLogisticClassifier(),
        InteractionLogisticClassifier(interaction=("x0", "x1"), C=0.5),
        InteractionLogisticClassifier(monotone={"unrecorded": -1}),  # the parameter through the API checks
    ]
)
def test_scikit_learn_estimator_checks(estimator, check):
    """Every scikit-learn API check that applies (none expected to fail), with and without the
    interaction (on arrays the features are named x0, x1, ...; with one feature the interaction's
    error names the feature count)."""
    check(estimator)


def test_same_probabilities_as_the_linear_interaction_baseline():
    """One definition: the baseline (on a wider frame) and the shipped estimator (on the model's
    features) give identical held-out probabilities."""
    x, y = _data()
    xt, _ = _data(300, 5)
    wide = x.assign(acwr_ewma=1.0, squat_e1rm_rel=np.nan)
    base = transfer_baselines(list(x.columns))["linear_interaction"].fit(wide, y)
    model = InteractionLogisticClassifier(interaction=INTERACTION_PAIR).fit(x, y)
    np.testing.assert_array_equal(
        model.predict_proba(xt)[:, 1], base.predict_proba(xt.assign(acwr_ewma=1.0))[:, 1]
    )
    np.testing.assert_array_equal(model.margin(xt), base.margin(xt))


def test_margin_decision_function_and_probabilities_agree_and_the_product_matters():
    x, y = _data(3000, 2)
    m = InteractionLogisticClassifier(interaction=INTERACTION_PAIR).fit(x, y)
    p = m.predict_proba(x)[:, 1]
    np.testing.assert_allclose(m.margin(x), np.log(p / (1 - p)), atol=1e-10)
    np.testing.assert_array_equal(m.decision_function(x), m.margin(x))
    assert list(m.feature_names_in_) == list(x.columns)
    table = m.coefficient_table().set_index("feature")
    assert table.loc[INTERACTION_COLUMN, "standardised_coefficient"] > 0.8  # true 1.5 per z_a z_b (SD ~1)
    assert table.index[0] == "(intercept)" and len(table) == 5


def test_interaction_needs_both_features():
    x, y = _data(100)
    with pytest.raises(ValueError, match="interaction needs"):
        InteractionLogisticClassifier(interaction=INTERACTION_PAIR).fit(x.drop(columns=B), y)
    with pytest.raises(ValueError, match="no feature has a value"):
        InteractionLogisticClassifier().fit(x.assign(**{c: np.nan for c in x.columns}), y)


def test_contributions_add_up_to_the_margin():
    x, y = _data()
    xt, _ = _data(200, 7)
    xt.loc[:5, A] = np.nan  # missing values: imputed (linear) and 0 (product)
    m = InteractionLogisticClassifier(interaction=INTERACTION_PAIR).fit(x, y)
    values, base = m.feature_contributions(xt)
    assert values.shape == xt.shape
    np.testing.assert_allclose(values.sum(axis=1) + base, m.margin(xt), atol=1e-10, rtol=0)
    # the base value is the margin at the reference (the training design mean: every coordinate ~0)
    np.testing.assert_allclose(m.reference_, 0.0, atol=1e-12)


def test_contributions_of_a_two_feature_model_by_hand():
    """Two features a, b and their product: phi_a = w_a u_a + v/2 (z_a - r_a)(z_b + r_b) with the
    fitted coefficients per standardised unit, computed here from the training data directly."""
    x, y = _data(400, 3)
    x = x[[A, B]]
    m = InteractionLogisticClassifier(interaction=INTERACTION_PAIR).fit(x, y)
    logistic = m.pipeline_[-1]
    za, zb = (x[A] - x[A].mean()) / x[A].std(), (x[B] - x[B].mean()) / x[B].std()
    prod = za * zb
    sd = np.array([x[A].std(ddof=0), x[B].std(ddof=0), prod.std(ddof=0)])
    w = logistic.coef_[0] / np.array([1.0, 1.0, sd[2]])  # per u_a, u_b and per unit of z_a z_b
    ua, ub = (x[A] - x[A].mean()) / x[A].std(ddof=0), (x[B] - x[B].mean()) / x[B].std(ddof=0)
    ra, rb = za.mean(), zb.mean()
    phi_a = w[0] * ua + w[2] / 2 * (za - ra) * (zb + rb)
    phi_b = w[1] * ub + w[2] / 2 * (zb - rb) * (za + ra)
    values, base = m.feature_contributions(x)
    np.testing.assert_allclose(values[:, 0], phi_a, atol=1e-10)
    np.testing.assert_allclose(values[:, 1], phi_b, atol=1e-10)
    expected_base = logistic.intercept_[0] + w[2] * (ra * rb - prod.mean())
    assert base == pytest.approx(expected_base, abs=1e-10)


def test_bootstrap_member_is_the_same_estimator_refitted():
    x, y = _data()
    m = InteractionLogisticClassifier(interaction=INTERACTION_PAIR).fit(x, y)
    half = x.iloc[:300]
    member = m.fit_member(half, y[:300], None, 1)
    assert member is not m and member.get_params() == m.get_params()
    np.testing.assert_array_equal(
        m.member_proba(member, x),
        InteractionLogisticClassifier(**m.get_params()).fit(half, y[:300]).predict_proba(x)[:, 1],
    )


def _wrong_sign_sample(seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    """40 rows: the event rises with ``sleep`` (logit 1.2 per unit); ``noise`` is unrelated to it but,
    in this small sample, correlated with the event the wrong way for a +1 constraint."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"sleep": rng.normal(0, 1, 40), "noise": rng.normal(0, 1, 40)})
    y = (rng.random(40) < 1 / (1 + np.exp(-1.2 * x["sleep"]))).astype(int).to_numpy()
    return x, y


def test_monotone_signs_bound_a_wrong_sign_coefficient_at_zero():
    """The free fit gives ``noise`` a negative coefficient; with ``noise: +1`` the refit holds it at 0,
    and then (known answer: an active bound at 0 is the fit without the column) the other coefficient
    and the intercept equal the free fit on ``sleep`` alone."""
    x, y = _wrong_sign_sample()
    free = InteractionLogisticClassifier().fit(x, y)
    assert free.coefficient_table().set_index("feature").loc["noise", "standardised_coefficient"] < 0
    bounded = InteractionLogisticClassifier(monotone={"noise": 1, "sleep": 1}).fit(x, y)
    coef = bounded.coefficient_table().set_index("feature")["standardised_coefficient"]
    assert bounded.sign_bounded_ == ["noise"] and coef["noise"] == 0.0 and coef["sleep"] > 0
    alone = InteractionLogisticClassifier().fit(x[["sleep"]], y).coefficient_table().set_index("feature")
    np.testing.assert_allclose(coef["sleep"], alone.loc["sleep", "standardised_coefficient"], rtol=1e-5)
    np.testing.assert_allclose(
        coef["(intercept)"], alone.loc["(intercept)", "standardised_coefficient"], rtol=1e-5, atol=1e-7
    )
    values, base = bounded.feature_contributions(x)
    np.testing.assert_allclose(values.sum(axis=1) + base, bounded.margin(x), atol=1e-10)
    assert np.all(values[:, 1] == 0.0)  # a held coefficient names nothing to the coach


def test_monotone_signs_leave_a_fit_that_keeps_them_unchanged():
    """Signs the free fit already keeps change nothing (bitwise the same probabilities)."""
    x, y = _wrong_sign_sample()
    free = InteractionLogisticClassifier().fit(x, y)
    kept = InteractionLogisticClassifier(monotone={"sleep": 1, "noise": -1}).fit(x, y)
    assert kept.sign_bounded_ == []
    np.testing.assert_array_equal(kept.predict_proba(x), free.predict_proba(x))


# ---------------------------------------------------------------- learning the outcome
def _threshold_sample(
    n: int = 2000, seed: int = 4
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """A probit threshold model: outcome ``o = 0.3 a - 0.2 b + e`` (e ~ N(0, 1)), event ``o > 0.5``;
    returns features, labels, the outcome and the true event probability ``Phi(mu - 0.5)``."""
    from scipy.stats import norm

    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"a": rng.normal(0, 1, n), "b": rng.normal(0, 1, n)})
    mu = 0.3 * x["a"].to_numpy() - 0.2 * x["b"].to_numpy()
    outcome = mu + rng.normal(0, 1, n)
    return x, (outcome > 0.5).astype(int), outcome, norm.cdf(mu - 0.5)


def test_bounded_ridge_is_scikit_learns_ridge_when_no_bound_binds():
    from sklearn.linear_model import Ridge

    from sprintlab.models.linear import bounded_ridge

    rng = np.random.default_rng(0)
    d = rng.normal(0, 1, (200, 3))
    y = d @ np.array([0.5, -0.3, 0.1]) + 2.0 + rng.normal(0, 1, 200)
    w, b = bounded_ridge(d, y, 10.0, np.zeros(3))
    ref = Ridge(alpha=10.0).fit(d, y)
    np.testing.assert_allclose(w, ref.coef_, atol=1e-8)
    assert b == pytest.approx(ref.intercept_, abs=1e-8)


def test_bounded_ridge_holds_a_wrong_sign_at_zero_as_the_fit_without_the_column():
    """Known answer: an active bound at 0 gives the ridge fit on the other columns."""
    from sprintlab.models.linear import bounded_ridge

    rng = np.random.default_rng(1)
    d = rng.normal(0, 1, (300, 2))
    y = 0.8 * d[:, 0] - 0.4 * d[:, 1] + rng.normal(0, 1, 300)
    w, b = bounded_ridge(d, y, 3.0, np.array([1.0, 1.0]))
    w_alone, b_alone = bounded_ridge(d[:, :1], y, 3.0, np.array([1.0]))
    assert w[1] == 0.0
    np.testing.assert_allclose([w[0], b], [w_alone[0], b_alone], atol=1e-8)


def test_learning_the_outcome_recovers_the_threshold_model():
    """The ridge fit of the outcome, calibrated on the label, recovers the outcome weights (0.3, -0.2)
    and the true probabilities ``Phi(mu - 0.5)`` (mean error < 0.02)."""
    x, y, outcome, p_true = _threshold_sample()
    groups = np.arange(len(y)) // 4  # four rows per "athlete"
    learned = InteractionLogisticClassifier(learn_from="outcome").fit(x, y, groups=groups, outcome=outcome)
    coef = learned.coefficient_table().set_index("feature")["standardised_coefficient"]
    weights = learned.outcome_fit_["weights"]  # outcome units per training SD (SD ~1 here)
    assert weights[0] == pytest.approx(0.3, abs=0.07) and weights[1] == pytest.approx(-0.2, abs=0.07)
    assert coef["a"] / coef["b"] == pytest.approx(weights[0] / weights[1], rel=1e-9)  # one slope s
    assert np.abs(learned.predict_proba(x)[:, 1] - p_true).mean() < 0.02
    values, base = learned.feature_contributions(x)
    np.testing.assert_allclose(values.sum(axis=1) + base, learned.margin(x), atol=1e-10)
    p = learned.predict_proba(x)[:, 1]
    np.testing.assert_allclose(learned.margin(x), np.log(p / (1 - p)), atol=1e-10)


def test_outcome_sign_flips_what_counts_as_better_and_bounds_hold():
    """``outcome_sign=-1`` learns ``-outcome`` (lower = the event, as a faster 0-10 m time); a ``+1``
    bound on a column whose free weight is negative holds it at 0."""
    x, y, outcome, _ = _threshold_sample(600, 5)
    flipped = InteractionLogisticClassifier(learn_from="outcome", outcome_sign=-1).fit(x, y, outcome=-outcome)
    same = InteractionLogisticClassifier(learn_from="outcome").fit(x, y, outcome=outcome)
    np.testing.assert_allclose(flipped.predict_proba(x), same.predict_proba(x), atol=1e-10)
    bounded = InteractionLogisticClassifier(learn_from="outcome", monotone={"b": 1}).fit(
        x, y, outcome=outcome
    )
    assert bounded.sign_bounded_ == ["b"] and bounded.outcome_fit_["weights"][1] == 0.0


def test_learning_the_outcome_needs_it_and_members_keep_the_penalty():
    x, y, outcome, _ = _threshold_sample(400, 6)
    with pytest.raises(ValueError, match="needs the outcome"):
        InteractionLogisticClassifier(learn_from="outcome").fit(x, y)
    with pytest.raises(ValueError, match="finite"):
        InteractionLogisticClassifier(learn_from="outcome").fit(x, y, outcome=np.full(len(y), np.nan))
    with pytest.raises(ValueError, match="learn_from"):
        InteractionLogisticClassifier(learn_from="both").fit(x, y)
    m = InteractionLogisticClassifier(learn_from="outcome").fit(x, y, outcome=pd.Series(outcome, name="o"))
    assert m.outcome_name_ == "o" and m.outcome_fit_["alpha"] in m.ridge_alphas
    member = m.fit_member(x.iloc[:200], y[:200], outcome[:200], 1)
    assert member.ridge_alphas == (m.outcome_fit_["alpha"],) and member.outcome_fit_ is not None


def test_learning_the_outcome_finds_the_direction_better_from_small_samples():
    """The point of learning the outcome: over 20 samples of 150 rows, the direction of the margin is
    closer to the true ``mu`` (median 1 - correlation on fresh rows) than the label fit's; the 0/1
    threshold throws away how far past it each row landed."""
    from scipy.stats import norm

    errors: dict[str, list[float]] = {"outcome": [], "label": []}
    for seed in range(20):
        x, y, outcome, _ = _threshold_sample(150, seed)
        fresh, _, _, p_fresh = _threshold_sample(2000, 100 + seed)
        mu = norm.ppf(p_fresh)
        fits = {
            "outcome": InteractionLogisticClassifier(learn_from="outcome").fit(
                x, y, groups=np.arange(150) // 4, outcome=outcome
            ),
            "label": InteractionLogisticClassifier().fit(x, y),
        }
        for name, fit in fits.items():
            errors[name].append(1 - np.corrcoef(fit.margin(fresh), mu)[0, 1])
    assert np.median(errors["outcome"]) < 0.7 * np.median(errors["label"])


def test_family_words_name_what_the_linear_model_is():
    from sprintlab.models.families import family_words

    x, y, outcome, _ = _threshold_sample(300, 7)
    assert family_words(InteractionLogisticClassifier().fit(x, y)) == "logistic regression"
    learned = InteractionLogisticClassifier(learn_from="outcome").fit(x, y, outcome=outcome)
    assert family_words(learned) == "linear model of the measured change (ridge, calibrated on the label)"
    xi, yi = _data(300)
    both = InteractionLogisticClassifier(interaction=INTERACTION_PAIR).fit(xi, yi)
    assert family_words(both) == "logistic regression with the strength x control interaction"


def test_the_label_fit_chooses_its_l2_strength_by_grouped_cross_validation():
    """``C_grid``: pure-noise features get the strongest penalty on the grid, a strong signal a weak
    one; a one-value grid is that ``C``; a bootstrap member keeps the chosen ``C_``."""
    rng = np.random.default_rng(11)
    noise = pd.DataFrame(rng.normal(0, 1, (400, 8)), columns=[f"n{i}" for i in range(8)])
    y_noise = (rng.random(400) < 0.3).astype(int)
    groups = np.arange(400) // 4
    grid = (0.001, 0.1, 10.0)
    picked = InteractionLogisticClassifier(C_grid=grid).fit(noise, y_noise, groups=groups)
    assert picked.C_ == 0.001 and picked.C_by_cv_
    x, y = _data(1000, 12)
    strong = InteractionLogisticClassifier(interaction=INTERACTION_PAIR, C_grid=grid).fit(
        x, y, groups=np.arange(1000) // 4
    )
    assert strong.C_ == 10.0
    one = InteractionLogisticClassifier(C_grid=(0.05,)).fit(noise, y_noise, groups=groups)
    np.testing.assert_array_equal(
        one.predict_proba(noise),
        InteractionLogisticClassifier(C=0.05).fit(noise, y_noise).predict_proba(noise),
    )
    member = picked.fit_member(noise.iloc[:200], y_noise[:200], None, 1)
    assert member.C == 0.001 and member.C_grid is None and not member.C_by_cv_


def test_values_beyond_the_training_range_score_as_its_edge():
    """A linear margin would extrapolate without bound: a feature value 100x beyond anything seen in
    training scores (and is explained) as the training maximum; missing stays missing."""
    x, y = _data(400, 13)
    m = InteractionLogisticClassifier(interaction=INTERACTION_PAIR).fit(x, y)
    row = x.iloc[[0]].copy()
    edge, wild = row.assign(first_step_contact_ms=x["first_step_contact_ms"].max()), row.copy()
    wild["first_step_contact_ms"] = 100 * x["first_step_contact_ms"].max()
    np.testing.assert_array_equal(m.predict_proba(wild), m.predict_proba(edge))
    np.testing.assert_array_equal(m.feature_contributions(wild)[0], m.feature_contributions(edge)[0])
    gap = row.assign(first_step_contact_ms=np.nan)
    assert np.isfinite(m.predict_proba(gap)).all()


@pytest.mark.parametrize("pair", [None, ("a", "b"), ("b", "c")])
def test_additive_margin_gives_the_group_shapley_values_of_every_coalition(pair) -> None:
    """The linear margin as one term per coefficient (the product reading its pair): the terms sum to
    the margin, and the closed-form coalition means give every coalition's group Shapley values -
    with missing values, a product within one group or across two, rows beyond the training range
    (clipped) and a baseline on a subset of a wider frame's columns."""
    from sprintlab.group_shapley import additive_group_shapley, group_shapley
    from sprintlab.models.transfer_baselines import FeatureLogistic

    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(400, 6)), columns=list("abcdef"))
    x.iloc[::17, 2] = np.nan
    y = ((x.a * x.b + x.c.fillna(0) - x.d + rng.normal(size=400)) > 0).astype(int)
    groups = {"g1": ["a"], "g2": ["b", "c"], "g3": ["d"], "g4": ["e", "f"]}
    rows = pd.concat([x.head(30), 4 * x.iloc[30:40]], ignore_index=True)
    for model in (
        InteractionLogisticClassifier(interaction=pair).fit(x, y),
        FeatureLogistic(["a", "b", "c", "d"], interaction=pair).fit(x, y),
    ):
        terms = model.additive_margin()
        total = terms.intercept + terms.term_values(rows).sum(axis=1)
        np.testing.assert_allclose(total, model.margin(rows), atol=1e-12)
        every = group_shapley(model.margin, rows, x.tail(90), groups)
        fast = additive_group_shapley(terms, rows, x.tail(90), groups)
        np.testing.assert_allclose(fast.to_numpy(), every.to_numpy(), atol=1e-12)
