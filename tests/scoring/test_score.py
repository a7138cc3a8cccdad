"""sprintlab score: history idempotence, exit codes, drift, insufficient data."""

from __future__ import annotations

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from sprintlab.cli import app
from sprintlab.scoring import (
    EXIT_DRIFT,
    EXIT_MISSING_MODEL,
    EXIT_OK,
    EXIT_SCHEMA_MISMATCH,
    latest_complete_week,
    parse_week,
    score,
)

from .conftest import copy_raw

runner = CliRunner()


def _cli(trained, data, out, *extra):
    return runner.invoke(
        app, ["score", str(data), "--out", str(out), "--params", str(trained["params_file"]), *extra]
    )


def _week(trained, back: int = 0) -> str:
    from sprintlab.domain import iso_week_label
    from sprintlab.pipeline.validate import load_validated

    we = latest_complete_week(load_validated(trained["tmp"] / "val"))
    return iso_week_label(we - pd.Timedelta(weeks=back))


def test_rerun_same_week_keeps_history_identical_and_second_week_appends(trained, tmp_path):
    out = tmp_path / "out"
    w1, w0 = _week(trained), _week(trained, 1)
    r = _cli(trained, trained["raw"], out, "--week", w1)
    assert r.exit_code == EXIT_OK, r.output
    hist = out / "score_history.parquet"
    first = hist.read_bytes()
    scores = pd.read_csv(out / "scores.csv")
    assert len(scores) == 40 and set(scores["week"]) == {w1}
    # the summary line names the flag policy: the weekly top 10 % of the athletes with a risk
    n = int((scores["hamstring_risk"].notna() & ~scores["insufficient_data"]).sum())
    k = int(np.ceil(0.10 * n))
    assert scores["hamstring_flag"].fillna(False).sum() == k
    line = " ".join(r.output.split())
    assert f"{k} flagged (the {k} highest of {n} hamstring risks: the squad's top 10%" in line
    assert {
        "hamstring_risk",
        "hamstring_flag",
        "transfer_probability",
        "dominant_family_hamstring",
        "top_drivers_hamstring",
        "model_version_hamstring",
        "data_freshness_days",
    } <= set(scores.columns)
    html = (out / f"report_{w1}.html").read_text(encoding="utf-8")
    assert "Scatter chart of " in html and "in a strength block this week" in html  # strength x control plot
    # the fixture caps the report at 6 athletes: the highest risks are shown, the others named
    shown = {a for a in scores["athlete_id"] if f'id="athlete-{a.lower()}"' in html}
    ranked = scores.sort_values(["insufficient_data", "hamstring_risk"], ascending=[True, False])
    assert len(shown) == 6 and "34 more athletes were scored but are not shown" in html
    assert (
        ranked["hamstring_risk"].iloc[5]
        <= scores.loc[scores["athlete_id"].isin(shown), "hamstring_risk"].min()
    )
    assert scores["top_drivers_hamstring"].str.contains("own usual").any()
    assert _cli(trained, trained["raw"], out, "--week", w1).exit_code == EXIT_OK
    assert hist.read_bytes() == first  # re-running the same week replaces its rows: byte-identical
    assert _cli(trained, trained["raw"], out, "--week", w0, "--no-report").exit_code == EXIT_OK
    h = pd.read_parquet(hist)
    assert len(h) == 80 and not h.duplicated(["athlete_id", "week", "model_version"]).any()
    before = pd.read_parquet(pd.io.common.BytesIO(first))
    pd.testing.assert_frame_equal(h[h["week"] == w1].reset_index(drop=True), before)


def test_week_is_truncated_nothing_after_sunday_is_read(trained, tmp_path):
    w = _week(trained, 3)
    res = score(trained["raw"], tmp_path, trained["params"], week=w, report=False)
    end = parse_week(w)
    assert pd.to_datetime(res.scores["last_record_date"]).max() <= end
    assert set(res.scores["week_end"]) == {str(end.date())}


def test_missing_model_version_exits_3(trained, tmp_path):
    r = _cli(trained, trained["raw"], tmp_path, "--model-version", "99", "--no-report")
    assert r.exit_code == EXIT_MISSING_MODEL == 3, r.output
    assert "no model" in r.output


def test_schema_mismatch_exits_4(trained, tmp_path):
    data = copy_raw(trained["raw"], tmp_path / "d" / "raw", drop=("movement_screens", "strength_tests"))
    r = _cli(trained, data, tmp_path / "out", "--no-report")
    assert r.exit_code == EXIT_SCHEMA_MISMATCH == 4, r.output
    assert "schema" in r.output and "nordic_force_n" in r.output
    assert not (tmp_path / "out" / "scores.csv").exists()


def _shift_age(trained, tmp_path, years: int):
    data = copy_raw(trained["raw"], tmp_path / "d" / "raw")
    ath = pd.read_csv(data / "athletes.csv", dtype=str)
    ath["birth_date"] = (pd.to_datetime(ath["birth_date"]) - pd.DateOffset(years=years)).dt.strftime(
        "%Y-%m-%d"
    )
    ath.to_csv(data / "athletes.csv", index=False)
    return data


def test_drift_warning_on_shifted_feature(trained, tmp_path):
    data = _shift_age(trained, tmp_path, 12)
    p = trained["params"]
    lenient = p.model_copy(update={"score": p.score.model_copy(update={"psi_fail": 1e6})})
    res = score(data, tmp_path / "out", lenient, week=_week(trained))
    assert res.exit_code == EXIT_OK
    assert any(w.startswith("age_years") for w in res.warnings)
    assert res.drift.loc[res.drift["feature"] == "age_years", "psi"].max() > p.score.psi_warn
    assert "age_years" in res.paths["report"].read_text(encoding="utf-8")
    # unshifted data: age is not flagged
    base = score(trained["raw"], tmp_path / "base", lenient, week=_week(trained), report=False)
    assert not any(w.startswith("age_years") for w in base.warnings)


def test_hard_drift_exits_5_and_leaves_history_alone(trained, tmp_path):
    data = _shift_age(trained, tmp_path, 25)
    out = tmp_path / "out"
    r = _cli(trained, data, out, "--no-report")
    assert r.exit_code == EXIT_DRIFT == 5, r.output
    assert (out / "scores.csv").exists() and not (out / "score_history.parquet").exists()


def test_athlete_without_recent_data_gets_insufficient_data(trained, tmp_path):
    w = _week(trained)
    end = parse_week(w)
    data = copy_raw(trained["raw"], tmp_path / "d" / "raw")
    gone = "SIM0003"
    for f in data.glob("*.csv"):
        df = pd.read_csv(f, dtype=str)
        if "date" in df and f.stem != "athletes":
            recent = (df["athlete_id"] == gone) & (pd.to_datetime(df["date"]) > end - pd.Timedelta(days=40))
            df[~recent].to_csv(f, index=False)
    res = score(data, tmp_path / "out", trained["params"], week=w, report=False)
    row = res.scores.set_index("athlete_id").loc[gone]
    assert (
        bool(row["insufficient_data"]) and np.isnan(row["hamstring_risk"]) and pd.isna(row["hamstring_flag"])
    )
    assert "days with records" in row["insufficient_reason"]
    others = res.scores[res.scores["athlete_id"] != gone]
    assert others["hamstring_risk"].notna().all()


def test_pseudonymised_outputs_go_to_share_and_no_file_there_holds_an_id_or_name(
    trained, tmp_path, monkeypatch
):
    monkeypatch.setenv("SPRINTLAB_PSEUDONYM_KEY", "scoring-test-key-0123456789")
    out = tmp_path / "out"
    week = _week(trained)
    r = _cli(trained, trained["raw"], out, "--week", week, "--pseudonymise")
    assert r.exit_code == EXIT_OK, r.output
    athletes = pd.read_csv(trained["raw"] / "athletes.csv", dtype=str)
    secrets = set(athletes["athlete_id"]) | {
        v for c in athletes.columns if "name" in c for v in athletes[c].dropna() if len(v) >= 3
    }
    shared = sorted(p for p in (out / "share").rglob("*") if p.is_file())
    assert {p.name for p in shared} == {"scores.csv", "scores.parquet", f"report_{week}.html"}
    for p in shared:  # raw bytes: parquet statistics and dictionaries included
        data = p.read_bytes()
        found = [s for s in secrets if s.encode() in data]
        assert not found, (p.name, found[:3])
    assert "ATH-" in (out / "share" / "scores.csv").read_text(encoding="utf-8")
    exported = pd.read_parquet(out / "share" / "scores.parquet")
    assert exported["athlete_id"].str.match(r"^ATH-[0-9A-F]{8}$").all()
    # the staff folder keeps the real ids (scores, history) and no staff report is rendered
    assert set(pd.read_parquet(out / "scores.parquet")["athlete_id"]) <= set(athletes["athlete_id"])
    assert set(pd.read_parquet(out / "score_history.parquet")["athlete_id"]) <= set(athletes["athlete_id"])
    assert not (out / f"report_{week}.html").exists()


def test_squad_explanations_cover_only_the_athletes_whose_number_is_shown(trained):
    """The squad-level charts (family shares, beeswarm) are built from ``families`` and ``long``:
    transfer rows only for athletes in a strength block, nothing for "insufficient data"."""
    from sprintlab.registry import load_pipeline_model
    from sprintlab.scoring import hamstring_flag_policy, mark_insufficient, score_week_with

    panel = pd.read_parquet(trained["tmp"] / "feat" / "panel.parquet")
    models = {t: load_pipeline_model(trained["tmp"] / "models", t).model for t in ("hamstring", "transfer")}
    p = trained["params"]
    # the latest week with some athletes in a strength block and some not
    for week_end in sorted(panel["week_end"].unique())[::-1]:
        out = score_week_with(p, panel, models, week_end)
        if 0 < out.squad["transfer_probability"].notna().sum() < len(out.squad):
            break
    sq = out.squad
    shown = {
        "transfer": set(sq.loc[sq["transfer_probability"].notna(), "athlete_id"]),
        "hamstring": set(sq.loc[sq["hamstring_risk"].notna(), "athlete_id"]),
    }
    assert len(shown["hamstring"]) > len(shown["transfer"]) > 0
    for part in ("families", "long"):
        for model, ids in shown.items():
            frame = getattr(out, part)
            assert set(frame.loc[frame["model"] == model, "athlete_id"]) == ids, (part, model)
    gone = sorted(shown["transfer"])[0]
    out = mark_insufficient(out, {gone}, "test", hamstring_flag_policy(p))
    for part in ("families", "long", "drivers"):
        assert gone not in set(getattr(out, part)["athlete_id"]), part


def test_unit_slip_against_the_training_data_is_rejected_and_named(trained, tmp_path):
    """Nordic forces exported in pounds-force stay inside the contract's bounds (0..10000); against
    the models' summary of their training tables they are rejected: named (file, column, both
    medians, likely unit) in the warnings and kept with their raw values in rejected_rows.csv."""
    from sprintlab.scoring import load_registered_models, training_reference

    ref = training_reference(load_registered_models().scoring)
    assert ref is not None and "strength_tests.value[test=nordic_eccentric]" in ref["columns"]
    data = copy_raw(trained["raw"], tmp_path / "d" / "raw")
    st = pd.read_csv(data / "strength_tests.csv", dtype=str)
    nordic = st["test"] == "nordic_eccentric"
    st.loc[nordic, "value"] = (st.loc[nordic, "value"].astype(float) * 0.224809).round(1).astype(str)
    st.to_csv(data / "strength_tests.csv", index=False)
    p = trained["params"]
    lenient = p.model_copy(update={"score": p.score.model_copy(update={"psi_fail": 1e6})})
    res = score(data, tmp_path / "out", lenient, week=_week(trained), report=False)
    said = [
        w for w in res.warnings if w.startswith("strength_tests.csv: value (test 'nordic_eccentric'): median")
    ]
    assert len(said) == 1 and "looks like pounds-force (x 0.2248)" in said[0], res.warnings
    rejected = pd.read_csv(tmp_path / "out" / "validated" / "rejected_rows.csv")
    assert rejected["reason"].str.contains("looks like pounds-force").sum() == nordic.sum()
    # the unchanged exports: no finding
    base = score(trained["raw"], tmp_path / "base", lenient, week=_week(trained), report=False)
    assert not any("training median" in w or "look swapped" in w for w in base.warnings), base.warnings
