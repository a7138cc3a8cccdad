"""Property test: random sprint_splits tables with injected faults.

For any generated table: accepted + rejected == input rows, every injected bad row is rejected with
the right column (and only those rows), and the accepted values are exactly the generated ones
whatever the delimiter, byte-order mark or date format.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sprintlab.contract.validate import validate_folder

from .conftest import ATHLETES, TODAY, write_folder

# fault -> (column it breaks, how)
FAULTS = {
    "wrong_type": ("time_s", lambda r: "fast"),
    "ms_scale": ("time_s", lambda r: f"{round(float(r['time_s']) * 1000)}"),
    "impossible": ("distance_m", lambda r: "500"),
    "future": ("date", lambda r: "2031-01-01"),
    "unknown_athlete": ("athlete_id", lambda r: "NOPE"),
    "missing": ("timing_system", lambda r: ""),
    "not_allowed": ("start_type", lambda r: "sitting"),
    "bad_int": ("trial", lambda r: "1.5"),
    "bad_date": ("date", lambda r: "2024-02-30"),
}
BASE = dt.date(2024, 1, 1)


def fmt_date(d: dt.date, style: str) -> str:
    return {
        "iso": d.isoformat(),
        "dot": d.strftime("%d.%m.%Y"),
        "slash": d.strftime("%d/%m/%Y"),
        "serial": str((d - dt.date(1899, 12, 30)).days),
    }[style]


row_st = st.tuples(
    st.sampled_from(list(ATHLETES["athlete_id"])),
    st.integers(0, 150),
    st.integers(1, 3),
    st.sampled_from([5.0, 10.0, 20.0, 30.0]),
    st.integers(30, 1400),
    st.sampled_from(["standing", "crouch", "block"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(row_st, min_size=1, max_size=25, unique_by=lambda r: r[:4]),
    faults=st.lists(st.sampled_from(sorted(FAULTS)), max_size=25),
    date_style=st.sampled_from(["iso", "dot", "slash", "serial"]),
    sep=st.sampled_from([",", ";", "\t"]),
    bom=st.booleans(),
)
def test_injected_faults_are_rejected_with_the_right_column(rows, faults, date_style, sep, bom):
    records = [
        {
            "athlete_id": a,
            "date": fmt_date(BASE + dt.timedelta(days=d), date_style),
            "trial": str(t),
            "distance_m": f"{dist:g}",
            "time_s": f"{cs / 100:.2f}",
            "start_type": s,
            "timing_system": "photocell",
        }
        for a, d, t, dist, cs, s in rows
    ]
    injected: dict[int, str] = {}
    for i, fault in enumerate(faults[: len(records)]):
        col, make = FAULTS[fault]
        records[i][col] = make(records[i])
        injected[i + 2] = col  # spreadsheet row
    clean = [r for i, r in enumerate(records) if i + 2 not in injected]
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_folder(Path(tmp), {"athletes": ATHLETES})
        text = pd.DataFrame(records).to_csv(index=False, sep=sep, lineterminator="\n")
        (folder / "sprint_splits.csv").write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
        res = validate_folder(folder, today=TODAY)
    c = res.counts["sprint_splits"]
    assert c["accepted"] + c["rejected"] == c["input"] == len(records)
    probs = res.problems[res.problems["table"] == "sprint_splits"]
    assert set(probs["row"]) == set(injected)
    for row, col in injected.items():
        assert col in set(probs.loc[probs["row"] == row, "column"]), (row, col, probs.to_string())
    acc = res.tables["sprint_splits"]
    assert len(acc) == len(clean)
    if clean:
        want = pd.DataFrame(clean)
        got = acc.assign(
            date=acc["date"].map(lambda x: fmt_date(x.date(), date_style)),
            trial=acc["trial"].astype(str),
            distance_m=acc["distance_m"].map(lambda x: f"{x:g}"),
            time_s=acc["time_s"].map(lambda x: f"{x:.2f}"),
        )
        key = ["athlete_id", "date", "trial", "distance_m"]
        pd.testing.assert_frame_equal(
            got.sort_values(key).reset_index(drop=True)[want.columns],
            want.sort_values(key).reset_index(drop=True),
        )
