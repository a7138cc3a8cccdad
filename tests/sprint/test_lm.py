"""The batched Levenberg-Marquardt internals (sprintlab.sprint.lm) against numpy/LAPACK references."""

from __future__ import annotations

import numpy as np
import pytest

from sprintlab.sprint.lm import batched_lm, covariance, normal_equations, solve_spd


@pytest.mark.parametrize("n_par", [1, 2, 3, 4])
def test_normal_equations_and_spd_solve_match_lapack(n_par):
    rng = np.random.default_rng(n_par)
    jac = rng.normal(size=(50, 7, n_par))
    r = rng.normal(size=(50, 7))
    h, g = normal_equations(jac, r)
    np.testing.assert_allclose(h.transpose(2, 0, 1), np.einsum("mnp,mnq->mpq", jac, jac), rtol=1e-13)
    np.testing.assert_allclose(g.T, np.einsum("mnp,mn->mp", jac, r), rtol=1e-12, atol=1e-14)
    x = solve_spd(h, g)
    want = np.linalg.solve(h.transpose(2, 0, 1), g.T[:, :, None])[:, :, 0]
    np.testing.assert_allclose(x.T, want, rtol=1e-10, atol=1e-12)


def test_spd_solve_is_non_finite_for_a_singular_system():
    a = np.array([[1.0, 2.0], [2.0, 4.0]])[:, :, None]  # rank 1
    assert not np.isfinite(solve_spd(a, np.array([[1.0], [1.0]]))).all()


def test_covariance_is_nan_for_collinear_columns_and_matches_the_inverse_otherwise():
    rng = np.random.default_rng(0)
    jac = rng.normal(size=(2, 6, 2))
    jac[1, :, 1] = 3.0 * jac[1, :, 0]  # trial 1: J'J singular
    r = rng.normal(size=(2, 6))
    cov = covariance(jac, r, np.array([6, 6]))
    want = np.linalg.inv(jac[0].T @ jac[0]) * (r[0] @ r[0]) / 4.0
    np.testing.assert_allclose(cov[0], want, rtol=1e-12)
    assert np.isnan(cov[1]).all()
    assert np.isnan(covariance(jac[:1], r[:1], np.array([2]))).all()  # no degrees of freedom


def test_batched_lm_reaches_the_least_squares_optimum_and_respects_bounds():
    """Exponential decay y = a e^(-b x): every trial converges to scipy's optimum; a bound binds."""
    from scipy.optimize import least_squares

    rng = np.random.default_rng(1)
    x = np.linspace(0.0, 3.0, 9)
    true = np.array([[2.0, 0.7], [1.0, 1.5], [3.0, 0.2]])
    y = true[:, :1] * np.exp(-true[:, 1:] * x) + rng.normal(0, 0.01, (3, x.size))

    def fun(p, idx):
        e = np.exp(-p[:, 1:2] * x)
        return p[:, 0:1] * e - y[idx], np.stack([e, -p[:, 0:1] * x * e], axis=2)

    lower, upper = np.array([[0.0, 0.0]] * 3), np.array([[10.0, 10.0], [10.0, 10.0], [2.5, 10.0]])
    res = batched_lm(fun, np.ones((3, 2)), lower, upper)
    assert res.converged.all()
    for i in range(3):
        ref = least_squares(
            lambda p, i=i: p[0] * np.exp(-p[1] * x) - y[i],
            [1.0, 1.0],
            bounds=(lower[i], upper[i]),
            xtol=1e-15,
        )
        np.testing.assert_allclose(res.params[i], ref.x, rtol=1e-7)
    assert res.params[2, 0] == 2.5  # the third trial's amplitude sits on its upper bound
