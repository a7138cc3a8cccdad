"""Optional GPS/LPS speed traces (the ``tracking_samples`` table) with a known in-situ truth.

Off by default: :func:`sprintlab.simulate.generator.simulate_squad` writes them only when given
``tracking=TRACKING_TRACES`` (or a variant), from their own random stream, so the default
tables never change. Every trace is built from the athlete's true MSS and the TAU of the true
0-10 m time in force that day (the sprint tests' block level), so in-situ profiles can be
checked against the truth: all-out efforts lie exactly on ``a = MAC (1 - v / MSS)``, submaximal
efforts below it; speed noise, dropouts and implausible spikes then blur the record the way a
tracking system does. The coefficients are ``coefficients.TrackingTraces``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sprintlab.simulate.coefficients import TrackingTraces
from sprintlab.simulate.latent import Traits
from sprintlab.simulate.processes import tau_for_t10
from sprintlab.simulate.records import Calendar
from sprintlab.simulate.sprint_tests import SprintTests

#: the traces' own random stream: ``SeedSequence([seed, TRACKING_STREAM])``
TRACKING_STREAM = 20_231_602
#: sessions synthesised at a time (bounds memory)
SESSION_BATCH = 128
SPIKE_RANGE_M_S = (12.6, 13.0)


def tracking_rng(seed: int) -> np.random.Generator:
    """The traces' generator, independent of the contract's ``default_rng(seed)``."""
    return np.random.default_rng(np.random.SeedSequence([seed, TRACKING_STREAM]))


def _sessions(cal: Calendar, out_day: np.ndarray, coef: TrackingTraces) -> tuple[np.ndarray, np.ndarray]:
    """(athlete index, day index) of every tracked session: each available athlete on the
    session weekdays, ordered by athlete then day."""
    days = np.flatnonzero(np.isin(cal.dow, coef.session_weekdays))
    athlete, day = np.nonzero(~out_day[:, days])
    return athlete, days[day]


def true_tau_s(traits: Traits, tests: SprintTests, athlete: np.ndarray, day: np.ndarray) -> np.ndarray:
    """TAU on each (athlete, day): from the true 0-10 m time of the athlete's latest sprint test
    on or before that day (the starting level before the first test), as the sprint tests do."""
    test_day = tests.test_day[athlete]
    done = (test_day >= 0) & (test_day <= day[:, None])
    last = test_day.shape[1] - 1 - np.argmax(done[:, ::-1], axis=1)
    t10 = np.where(done.any(axis=1), tests.t10_true[athlete, last], traits.t10_base[athlete])
    return tau_for_t10(t10, traits.mss[athlete], traits.fd[athlete])


def _ornstein_uhlenbeck(
    rng: np.random.Generator, shape: tuple[int, int], sd: float, tau_s: float, rate_hz: float
) -> np.ndarray:
    """Zero-mean Ornstein-Uhlenbeck processes along axis 1, sampled at ``rate_hz``: AR(1) with
    ``phi = exp(-dt / tau)`` and stationary SD ``sd``, started from the stationary distribution.
    (``scipy.signal`` is imported here: ~1.5 s that every squad simulation without traces skips.)"""
    from scipy.signal import lfilter

    phi = np.exp(-1.0 / (rate_hz * tau_s))
    eps = rng.normal(0.0, 1.0, shape)
    eps[:, 0] /= np.sqrt(1.0 - phi**2)
    return lfilter([sd * np.sqrt(1.0 - phi**2)], [1.0, -phi], eps, axis=1)


def _baseline(rng: np.random.Generator, n_sessions: int, n_samples: int, coef: TrackingTraces) -> np.ndarray:
    """Walking/jogging speed (m/s): an Ornstein-Uhlenbeck process per session around
    ``baseline_mean_m_s``, clipped to ``[0, baseline_max_m_s]``."""
    walk = _ornstein_uhlenbeck(
        rng, (n_sessions, n_samples), coef.baseline_sd_m_s, coef.baseline_tau_s, coef.rate_hz
    )
    return np.clip(coef.baseline_mean_m_s + walk, 0.0, coef.baseline_max_m_s)


def _effort_curves(
    rng: np.random.Generator,
    v0: np.ndarray,
    mss: np.ndarray,
    tau: np.ndarray,
    n_steps: int,
    coef: TrackingTraces,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Speed of every effort over ``n_steps`` samples from its start (acceleration then a linear
    deceleration), its acceleration length in samples and whether it is all-out.

    All-out: ``v = MSS - (MSS - v0) exp(-t/TAU)``; submaximal: target ``f MSS`` and time constant
    ``k TAU`` (``f``, ``k`` drawn from ``submax_speed_fraction``, ``submax_tau_factor``)."""
    n = v0.size
    all_out = rng.random(n) < coef.max_effort_share
    target = np.where(all_out, 1.0, rng.uniform(*coef.submax_speed_fraction, n)) * mss
    tau_e = np.where(all_out, 1.0, rng.uniform(*coef.submax_tau_factor, n)) * tau
    n_acc = np.rint(rng.uniform(*coef.effort_s, n) * coef.rate_hz).astype(np.int64)
    decel = rng.uniform(*coef.deceleration_m_s2, n)
    t = np.arange(n_steps)[None, :] / coef.rate_hz
    start = np.minimum(v0, target)[:, None]
    accel = target[:, None] - (target[:, None] - start) * np.exp(-t / tau_e[:, None])
    peak = target - (target - start[:, 0]) * np.exp(-n_acc / coef.rate_hz / tau_e)
    slowing = peak[:, None] - decel[:, None] * (t - n_acc[:, None] / coef.rate_hz)
    curve = np.where(np.arange(n_steps)[None, :] < n_acc[:, None], accel, slowing)
    return curve, n_acc, all_out


def _add_efforts(
    rng: np.random.Generator, speed: np.ndarray, mss: np.ndarray, tau: np.ndarray, coef: TrackingTraces
) -> np.ndarray:
    """Write ``efforts_per_session`` efforts into each session's speed (in place), one in each
    equal slot of the session; an effort ends where its deceleration meets the baseline. Returns
    the number of all-out efforts per session."""
    n_sessions, n_samples = speed.shape
    per = coef.efforts_per_session
    n_steps = int(np.ceil((coef.effort_s[1] + mss.max() / coef.deceleration_m_s2[0]) * coef.rate_hz)) + 1
    slot = n_samples // per
    if slot <= n_steps:
        raise ValueError(
            "sessions too short for their efforts: raise session_minutes or lower efforts_per_session"
        )
    session = np.repeat(np.arange(n_sessions), per)
    start = np.tile(np.arange(per) * slot, n_sessions) + rng.integers(0, slot - n_steps, session.size)
    cols = start[:, None] + np.arange(n_steps)[None, :]
    base = speed[session[:, None], cols]
    curve, n_acc, all_out = _effort_curves(rng, base[:, 0], mss[session], tau[session], n_steps, coef)
    met = (np.arange(n_steps)[None, :] >= n_acc[:, None]) & (curve <= base)
    end = np.where(met.any(axis=1), np.argmax(met, axis=1), n_steps)
    inside = np.arange(n_steps)[None, :] < end[:, None]
    speed[session[:, None].repeat(n_steps, 1)[inside], cols[inside]] = curve[inside]
    return np.bincount(session[all_out], minlength=n_sessions)


def _add_artifacts(rng: np.random.Generator, speed: np.ndarray, coef: TrackingTraces) -> None:
    """Speed error (an Ornstein-Uhlenbeck process: the device's filter leaves band-limited, not
    white, error) and resolution, one dropout burst (NaN) in ``dropout_share`` of the sessions and
    one implausible spike in ``spike_share`` of them (in place)."""
    n_sessions, n_samples = speed.shape
    speed += _ornstein_uhlenbeck(
        rng, speed.shape, coef.speed_noise_sd_m_s, coef.speed_noise_tau_s, coef.rate_hz
    )
    np.clip(speed, 0.0, None, out=speed)
    np.round(speed / coef.speed_resolution_m_s, out=speed)
    speed *= coef.speed_resolution_m_s
    burst = np.flatnonzero(rng.random(n_sessions) < coef.dropout_share)
    length = np.rint(rng.uniform(*coef.dropout_s, burst.size) * coef.rate_hz).astype(np.int64)
    first = rng.integers(0, n_samples - length.max(initial=0) - 1, burst.size)
    for k in range(int(length.max(initial=0))):
        on = k < length
        speed[burst[on], first[on] + k] = np.nan
    spiked = np.flatnonzero(rng.random(n_sessions) < coef.spike_share)
    speed[spiked, rng.integers(0, n_samples, spiked.size)] = rng.uniform(*SPIKE_RANGE_M_S, spiked.size)


def speed_traces(
    rng: np.random.Generator, mss_m_s: np.ndarray, tau_s: np.ndarray, coef: TrackingTraces
) -> tuple[np.ndarray, np.ndarray]:
    """Exported speed (m/s) of one session per (MSS, TAU) pair, ``(sessions, samples)``: baseline,
    efforts, then the recording's noise, dropouts and spikes; and each session's number of
    all-out efforts."""
    n_samples = int(round(coef.session_minutes * 60 * coef.rate_hz))
    speed = _baseline(rng, mss_m_s.size, n_samples, coef)
    n_all_out = _add_efforts(rng, speed, mss_m_s, tau_s, coef)
    _add_artifacts(rng, speed, coef)
    return speed, n_all_out


def tracking_tables(
    rng: np.random.Generator,
    traits: Traits,
    tests: SprintTests,
    cal: Calendar,
    out_day: np.ndarray,
    coef: TrackingTraces,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``tracking_samples`` contract table and its truth ``tracking_sessions`` (one row per
    session: true MSS, TAU, MAC and the number of all-out efforts)."""
    athlete, day = _sessions(cal, out_day, coef)
    tau = true_tau_s(traits, tests, athlete, day)
    mss = traits.mss[athlete]
    n_samples = int(round(coef.session_minutes * 60 * coef.rate_hz))
    time_s = np.round(np.arange(n_samples) / coef.rate_hz, 6)
    frames, n_max = [], []
    for lo in range(0, athlete.size, SESSION_BATCH):
        hi = min(lo + SESSION_BATCH, athlete.size)
        speed, n_all_out = speed_traces(rng, mss[lo:hi], tau[lo:hi], coef)
        n_max.append(n_all_out)
        frames.append(
            pd.DataFrame(
                {
                    "athlete_id": np.repeat(traits.ids[athlete[lo:hi]], n_samples),
                    "date": np.repeat(pd.to_datetime(cal.date_of[day[lo:hi]]), n_samples),
                    "session_id": np.repeat(np.where(cal.dow[day[lo:hi]] == 5, "match", "pitch"), n_samples),
                    "time_s": np.tile(time_s, hi - lo),
                    "velocity_m_s": speed.ravel(),
                }
            )
        )
    truth = pd.DataFrame(
        {
            "athlete_id": traits.ids[athlete],
            "date": pd.to_datetime(cal.date_of[day]),
            "session_id": np.where(cal.dow[day] == 5, "match", "pitch"),
            "mss_m_s": mss,
            "tau_s": tau,
            "mac_m_s2": mss / tau,
            "n_all_out_efforts": np.concatenate(n_max) if n_max else np.zeros(0, np.int64),
        }
    )
    columns = ["athlete_id", "date", "session_id", "time_s", "velocity_m_s"]
    samples = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    return samples, truth
