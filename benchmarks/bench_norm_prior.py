"""What if the wellness norms were shrunk towards the squad's mean? A what-if, not a shipped feature.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_norm_prior.py [--prior-days 0 28 60 150] [--downstream 60]

The sleep features compare an athlete's nights with his own norm: the mean of all his earlier nights
(``sprintlab.features.grid.baseline_before`` for ``sleep_deficit_since_test_h``, ``long_term_norm``
for ``sleep_hours_vs_norm``). With few nights that norm is noisy. The empirical-Bayes alternative
measured here adds a prior worth K days at the squad's mean of all nights recorded so far:

    norm_K = (sum of the athlete's nights + K x squad mean) / (number of his nights + K)

(causal: both sums stop where the original norm stops; K = 0 is the shipped norm). Three figures:

1. **Records only** - how well each norm, at every 7th day, predicts the athlete's mean over all his
   *later* nights (mean squared error, h^2; athletes with >= 28 later nights): on the simulated squad
   and, when ``../shared`` is present, on SoccerMon's 50 players (``realdata.load_soccermon``).
2. **Against the simulator's latent block sleep deficit**: the Pearson r of
   ``sleep_deficit_since_test_h`` on the transfer training blocks of the pipeline's split
   (``bench_transfer_fidelity.training_blocks``), overall and for blocks with < 120 days of records.
3. ``--downstream K``: with the norms replaced by ``norm_K`` for the run (this script swaps the two
   functions in ``sprintlab.features.wellness``), the transfer lever benchmark on the default squad
   (``bench_levers.run``, no records-only reference) and the transfer AUC / explanation figures of
   ``bench_models.py --targets transfer --seeds 7 1 2 3 4 --bootstrap 50``.
No timing figures.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from _squad import ROOT
from sprintlab.features import grid

LATER_MIN_NIGHTS = 28
EVERY_DAYS = 7


def prior_norm(x: np.ndarray, counts: np.ndarray, sums: np.ndarray, prior_days: float) -> np.ndarray:
    """``(sums + K m) / (counts + K)`` with ``m`` the squad's mean of all values up to each day
    (``x``: athletes x days; ``counts``/``sums``: the athlete's values behind his norm)."""
    finite = np.isfinite(x)
    squad_mean = np.cumsum(np.where(finite, x, 0).sum(axis=0)) / np.maximum(np.cumsum(finite.sum(axis=0)), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sums + prior_days * squad_mean[None, :]) / (counts + prior_days)


def later_mean_error(x: np.ndarray, prior_days: float) -> float:
    """Mean squared error of the prior norm on each 7th day (from day 28) against the mean of the
    athlete's later values (athletes with >= 28 later values and >= 1 earlier one)."""
    finite = np.isfinite(x)
    c, v = np.cumsum(finite, axis=1), np.cumsum(np.where(finite, x, 0), axis=1)
    days = np.arange(28, x.shape[1] - LATER_MIN_NIGHTS, EVERY_DAYS)
    before_c, before_v = c[:, days - 1], v[:, days - 1]
    later_c, later_v = c[:, -1:] - before_c, v[:, -1:] - before_v
    norm = prior_norm(x, c, v, prior_days)[:, days - 1] if prior_days else before_v / np.maximum(before_c, 1)
    use = (before_c >= 1) & (later_c >= LATER_MIN_NIGHTS)
    err = norm - later_v / np.maximum(later_c, 1)
    return float(np.mean(err[use] ** 2))


def daily_matrix(wellness: pd.DataFrame, item: str = "sleep_hours") -> np.ndarray:
    """Athletes x calendar days of one wellness item (mean per day; NaN without a report)."""
    w = wellness[["athlete_id", "date", item]].dropna()
    w = w.assign(date=pd.to_datetime(w["date"]).dt.normalize()).groupby(["athlete_id", "date"])[item].mean()
    m = w.unstack("date")
    return m.reindex(columns=pd.date_range(m.columns.min(), m.columns.max())).to_numpy(dtype=float)


@contextlib.contextmanager
def shrunk_norms(prior_days: float) -> Iterator[None]:
    """Within the block the wellness builders use ``norm_K`` (module docstring) for both norms."""
    from sprintlab.features import wellness

    def baseline_before(x, starts, min_days=grid.LONG_TERM_MIN_DAYS):
        c, v = grid._cum_count_sum(x)
        _, (c_before, v_before) = grid._at_segment_start((c, v), starts)
        return prior_norm(x, c_before, v_before, prior_days)

    def long_term_norm(x, exclude_last_days=7, min_days=grid.LONG_TERM_MIN_DAYS):
        c, v = grid._cum_count_sum(x)
        k = exclude_last_days
        c_before, v_before = np.zeros_like(c), np.zeros_like(v)
        c_before[:, k:], v_before[:, k:] = c[:, :-k], v[:, :-k]
        return prior_norm(x, c_before, v_before, prior_days)

    saved = wellness.baseline_before, wellness.long_term_norm
    wellness.baseline_before, wellness.long_term_norm = baseline_before, long_term_norm
    try:
        yield
    finally:
        wellness.baseline_before, wellness.long_term_norm = saved


def latent_fidelity(prior_days: float, params_path: Path) -> dict[str, float]:
    """r of ``sleep_deficit_since_test_h`` with the latent block deficit on the training blocks."""
    import bench_transfer_fidelity as fidelity

    with shrunk_norms(prior_days) if prior_days else contextlib.nullcontext():
        blocks = fidelity.training_blocks(None, params_path)
    row = next(r for r in fidelity.fidelity(blocks) if r["feature"] == "sleep_deficit_since_test_h")
    return {"all": row["r"], "under_120_days": row["by_history_days"]["0-120"]["r"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    ap.add_argument("--prior-days", type=float, nargs="+", default=[0, 7, 14, 28, 42, 60, 90, 150, 270])
    ap.add_argument("--downstream", type=float, help="also run the lever and model benchmarks with this K")
    a = ap.parse_args()
    from sprintlab.config import load_params
    from sprintlab.pipeline.simulate import simulate_params_squad

    p = load_params(a.params)
    sources = {"simulated squad": simulate_params_squad(p).tables["wellness"]}
    if (ROOT.parent / "shared" / "datasets" / "soccermon_subjective").exists():
        import realdata

        sources["SoccerMon (50 players)"] = realdata.load_soccermon()["wellness"]
    print(
        "| K (days) | "
        + " | ".join(f"MSE vs later mean, {s} (h^2)" for s in sources)
        + " | r latent, all | r latent, < 120 days |"
    )
    print("|---" * (len(sources) + 3) + "|")
    nights = {s: daily_matrix(w) for s, w in sources.items()}
    for k in a.prior_days:
        r = latent_fidelity(k, a.params)
        cells = " | ".join(f"{later_mean_error(x, k):.4f}" for x in nights.values())
        print(f"| {k:g} | {cells} | {r['all']:.3f} | {r['under_120_days']:.3f} |")
    if a.downstream:
        downstream(a.downstream, p)


def downstream(prior_days: float, p) -> None:
    """Transfer lever regret (default squad) and the five-seed transfer table with ``norm_K``."""
    import bench_levers
    import bench_models

    with shrunk_norms(prior_days):
        res = bench_levers.run(p.simulate.athletes, p.simulate.weeks, p.simulate.seed, reference_athletes=0)
        t = res["transfer"]
        print(
            f"\nK = {prior_days:g}: transfer lever regret {t['model']['mean_regret']:.4f} top "
            f"{t['model']['top_agreement']:.2f}; chosen {t['bundles']['modelled_top_counts']}"
        )
        bench_models.main(["--targets", "transfer", "--seeds", "7", "1", "2", "3", "4", "--bootstrap", "50"])


if __name__ == "__main__":
    main()
