"""Cleaning tracking samples: Savitzky-Golay acceleration that never crosses a gap, a trace or a
change of sampling rate, and every sample counted in exactly one class."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import savgol_filter

from sprintlab.sprint.model import acceleration, velocity
from sprintlab.sprint.tracking import COUNT_COLUMNS, CleaningSettings, clean_trace, savgol_acceleration

SETTINGS = CleaningSettings(
    max_speed_m_s=12.5,
    max_abs_acceleration_m_s2=10.0,
    max_gap_s=0.5,
    savgol_window_s=0.75,
    savgol_polyorder=2,
)


def _zeros(n: int) -> np.ndarray:
    return np.zeros(n, dtype=np.int64)


@pytest.mark.parametrize("rate_hz", [10.0, 20.0, 50.0])
def test_savgol_derivative_matches_scipy_inside_the_trace(rate_hz):
    t = np.arange(0, 8, 1 / rate_hz)
    v = velocity(t, 8.5, 1.1) + 0.3 * np.sin(t)
    got = savgol_acceleration(_zeros(t.size), t, v, SETTINGS)
    h = int(np.rint((0.75 * rate_hz - 1) / 2))
    want = savgol_filter(v, 2 * h + 1, 2, deriv=1, delta=1 / rate_hz)
    assert np.isnan(got[:h]).all() and np.isnan(got[-h:]).all()  # no edge extrapolation
    np.testing.assert_allclose(got[h:-h], want[h:-h], rtol=1e-9, atol=1e-9)
    truth = acceleration(t, 8.5, 1.1) + 0.3 * np.cos(t)
    assert np.nanmax(np.abs(got[t > 0.5] - truth[t > 0.5])) < 0.1


def test_derivative_never_crosses_a_gap_a_trace_or_a_rate_change():
    t10 = np.arange(0, 5, 0.1)
    t20 = 5 + np.arange(0, 5, 0.05)
    after_gap = 12 + np.arange(0, 5, 0.1)
    t = np.concatenate([t10, t20, after_gap, t10])
    group = np.concatenate([_zeros(t10.size + t20.size + after_gap.size), np.ones(t10.size, np.int64)])
    v = 2.0 + 0.5 * t  # constant acceleration 0.5 m/s^2 within each stretch
    v[-t10.size :] = 2.0 + 0.5 * t10
    got = savgol_acceleration(group, t, v, SETTINGS)
    ok = np.isfinite(got)
    # a window across the 10 -> 20 Hz switch, the 2.05 s gap or into the other trace would not
    # give exactly 0.5 (uneven spacing, the restart of the second trace)
    np.testing.assert_allclose(got[ok], 0.5, rtol=1e-9)
    # stretches: 0-5.0 s at 10 Hz (51 rows, h = 3), 5.05-9.95 s at 20 Hz (99 rows, h = 7), after
    # the gap (50 rows, h = 3), the second trace (50 rows, h = 3): h rows at each end have none
    assert ok.sum() == (51 - 6) + (99 - 14) + (50 - 6) + (50 - 6)


def test_every_sample_is_counted_once():
    rng = np.random.default_rng(0)
    t = np.arange(0, 60, 0.1)
    v = np.clip(3 + np.cumsum(rng.normal(0, 0.05, t.size)), 0, None)
    v[50:60] = np.nan  # dropout
    v[200] = 13.0  # implausible speed
    v[300] = -0.5
    t = np.insert(t, 400, t[400])  # one duplicated time stamp
    v = np.insert(v, 400, v[400])
    t[500:] += 2.0  # a gap
    res = clean_trace(_zeros(t.size), t, v, None, 1, SETTINGS)
    c = {k: int(x[0]) for k, x in res.counts.items()}
    assert list(res.counts) == list(COUNT_COLUMNS)
    assert (c["n_missing"], c["n_duplicate"], c["n_implausible_speed"], c["n_gaps"]) == (10, 1, 2, 2)
    classes = ["n_usable", "n_missing", "n_duplicate", "n_implausible_speed", "n_implausible_acceleration"]
    assert sum(c[k] for k in classes) + c["n_no_acceleration"] == c["n_samples"] == t.size
    assert np.isfinite(res.velocity_m_s).sum() == c["n_usable"] == np.isfinite(res.acceleration_m_s2).sum()
    assert res.top_speed_m_s[0] == pytest.approx(np.nanmax(np.where(v <= 12.5, v, np.nan)))


def test_exported_acceleration_is_kept_and_implausible_values_dropped():
    t = np.arange(0, 10, 0.1)
    v = np.full(t.size, 5.0)
    a = np.zeros(t.size)
    a[10] = 14.0
    a[20] = np.nan
    res = clean_trace(_zeros(t.size), None, v, a, 1, SETTINGS)
    assert res.counts["n_implausible_acceleration"][0] == 1 and res.counts["n_missing"][0] == 1
    assert res.counts["n_gaps"][0] == 0 and res.counts["n_usable"][0] == t.size - 2


def test_cleaning_needs_time_or_acceleration():
    with pytest.raises(ValueError, match="needs time stamps"):
        clean_trace(_zeros(3), None, np.ones(3), None, 1, SETTINGS)
