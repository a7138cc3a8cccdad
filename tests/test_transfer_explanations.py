"""Transfer explanation metrics: model and truth family values, one definition, known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sprintlab.simulate.coefficients import TRANSFER
from sprintlab.transfer_explanations import agreement_metrics, model_family_values, truth_family_values


def test_agreement_metrics_known_answer():
    truth = pd.DataFrame(
        {
            "strength": [1.0, 1.0, 0.0, 0.3],
            "control": [0.1, 0.9, 0.0, 0.0],
            "bounce_back": [0.0, 0.0, 2.0, 0.0],
        }
    )
    model = pd.DataFrame(
        {
            "strength": [2.0, 0.1, 0.0, 0.0],
            "control": [0.2, 0.5, 1.0, 0.0],
            "bounce_back": [0.0, 0.0, 0.0, 1.0],
        }
    )
    out = agreement_metrics(model, truth)
    # named: strength, control, control, bounce_back; leader: strength, strength, bounce_back, strength
    assert out["all_blocks_agreement"] == pytest.approx(0.25)
    # control carries 0.9 >= 0.8 x 1.0 of the leader in row 2; rows 3 and 4 name a zero-share family
    assert out["named_share_ge_80pct"] == pytest.approx(0.5)
    # clear truth (runner-up < half): rows 1, 3, 4; only row 1 agrees
    assert out["n_clear_blocks"] == 3 and out["clear_truth_agreement"] == pytest.approx(1 / 3)
    # cosines: row 1 exactly 1 (parallel); row 4 orthogonal 0
    cos = [1.0, (0.1 + 0.45) / (np.hypot(1, 0.9) * np.hypot(0.1, 0.5)), 0.0, 0.0]
    assert out["family_cosine_median"] == pytest.approx(np.median(cos))


def test_truth_and_model_values_share_the_definition():
    """A 'model' whose margin is -mu / s in the latents gives, by group Shapley over its features, the
    truth's family values (additive families; the strength x access product shared by the formula)."""
    from sprintlab.simulate.processes import transfer_mean_change

    rng = np.random.default_rng(0)
    names = ["true_strength_gain", "true_control_state", "true_braking_state", "true_t10_above_typical_s"]
    names += ["true_load_excess", "true_sleep_deficit"]
    units = pd.DataFrame(
        {n: rng.normal(0, s, 12) for n, s in zip(names, (0.05, 1, 1, 0.03, 1, 1), strict=True)}
    )
    reference = pd.DataFrame(
        {n: rng.normal(0, s, 40) for n, s in zip(names, (0.05, 1, 1, 0.03, 1, 1), strict=True)}
    )
    truth = truth_family_values(units, reference)
    assert truth["bounce_back"].to_numpy() == pytest.approx(
        TRANSFER["rho_rev"]
        * (units["true_t10_above_typical_s"] - reference["true_t10_above_typical_s"].mean())
    )
    mu = transfer_mean_change(*(units[n].to_numpy() for n in names))
    mu_ref = transfer_mean_change(*(np.full(12, reference[n].mean()) for n in names))
    np.testing.assert_allclose(truth.sum(axis=1), -(mu - mu_ref), atol=1e-12)
    # group Shapley of a linear margin against a reference set = slope x (x - mean reference)
    x = pd.DataFrame(
        {
            "t10_vs_own_typical_s": units["true_t10_above_typical_s"],
            "control_score_8w": units["true_control_state"],
        }
    )
    ref_x = pd.DataFrame(
        {
            "t10_vs_own_typical_s": reference["true_t10_above_typical_s"],
            "control_score_8w": reference["true_control_state"],
        }
    )
    phi = model_family_values(lambda f: 2.0 * f["t10_vs_own_typical_s"] - f["control_score_8w"], x, ref_x)
    np.testing.assert_allclose(
        phi["bounce_back"], 2.0 * (x["t10_vs_own_typical_s"] - ref_x["t10_vs_own_typical_s"].mean())
    )
    np.testing.assert_allclose(phi["control"], -(x["control_score_8w"] - ref_x["control_score_8w"].mean()))
