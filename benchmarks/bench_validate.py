"""Benchmark the validator on a large ``tracking_samples`` table (10 Hz GPS samples as CSV text).

    .venv/bin/python benchmarks/bench_validate.py [--rows 1000000]

Writes a data folder (athletes, a minimal set of required tables and ``tracking_samples.csv``) to a
temporary folder, then times reading and validating it (:func:`sprintlab.contract.validate.validate_folder`,
outputs not written) and prints rows per second. About 0.1 % of the cells are broken (text,
out-of-range speeds, blanks) so that the per-cell path is exercised too. Figures only.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def tracking_folder(folder: Path, rows: int, seed: int = 0) -> Path:
    """A contract folder whose ``tracking_samples.csv`` has ``rows`` rows (20 athletes)."""
    from sprintlab.contract.tables import TABLES

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ids = [f"A{i:02d}" for i in range(20)]
    pd.DataFrame(
        {"athlete_id": ids, "sex": "M", "birth_date": "2000-01-15", "height_cm": "180", "body_mass_kg": "78"}
    ).to_csv(folder / "athletes.csv", index=False)
    for name, spec in TABLES.items():  # required tables other than the register: header only
        if spec.required and name != "athletes":
            (folder / f"{name}.csv").write_text(",".join(spec.required_columns) + "\n")
    per = rows // 20
    t = np.arange(per) / 10.0
    day = pd.Timestamp("2026-03-02") + pd.to_timedelta((t // 3600).astype(int), unit="D")
    frame = pd.DataFrame(
        {
            "athlete_id": np.repeat(ids, per),
            "date": np.tile(day.strftime("%Y-%m-%d"), 20),
            "session_id": "am",
            "time_s": np.tile(np.round(t % 3600, 1), 20).astype(str),
            "velocity_m_s": np.round(rng.uniform(0, 9, per * 20), 2).astype(str),
            "acceleration_m_s2": np.round(rng.normal(0, 1.5, per * 20), 2).astype(str),
        }
    )
    bad = rng.choice(len(frame), size=max(1, len(frame) // 1000), replace=False)
    frame.loc[bad[0::3], "velocity_m_s"] = "fast"
    frame.loc[bad[1::3], "velocity_m_s"] = "45"
    frame.loc[bad[2::3], "acceleration_m_s2"] = ""
    frame.to_csv(folder / "tracking_samples.csv", index=False)
    return folder


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    from sprintlab.contract.validate import validate_folder
    from sprintlab.io import read_table

    with tempfile.TemporaryDirectory() as tmp:
        folder = tracking_folder(Path(tmp) / "data", args.rows)
        t0 = time.perf_counter()
        raw = read_table(folder / "tracking_samples.csv")
        t_read = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = validate_folder(folder, today="2026-11-30")
        t_all = time.perf_counter() - t0
    c = res.counts["tracking_samples"]
    print(f"tracking_samples: {len(raw):,} rows; read {t_read:.2f} s; read + validate {t_all:.2f} s")
    print(
        f"  {len(raw) / t_all:,.0f} rows/s (read + validate), {len(raw) / max(t_all - t_read, 1e-9):,.0f} rows/s (validate)"
    )
    print(
        f"  accepted {c['accepted']:,}, rejected {c['rejected']:,}, cells emptied {c.get('cells_emptied', 0):,}"
    )


if __name__ == "__main__":
    main()
