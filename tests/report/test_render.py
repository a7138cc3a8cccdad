"""The weekly HTML report: self-contained, accessible, reproducible, privacy-safe."""

from __future__ import annotations

import dataclasses
import html as html_lib
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from sprintlab.privacy import KEY_ENV, KEY_FILE_ENV, PseudonymKeyError, is_alias, pseudonymise_ids
from sprintlab.report.context import ReportContext
from sprintlab.report.render import GUARD_RAIL, render_html, render_report

from .demo import build_demo_context

KEY = b"report-test-key-0123456789abcdef"


class _Scan(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs: list[dict] = []
        self.svgs: list[dict] = []
        self.svg_titles: list[str] = []
        self._svg_depth = 0
        self._in_title = False
        self.headings: list[int] = []
        self.urls: list[str] = []
        self.ths: list[dict] = []
        self.html_lang = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.html_lang = a.get("lang")
        if tag == "img":
            self.imgs.append(a)
        if tag == "svg":
            self.svgs.append(a)
            self._svg_depth += 1
        if tag == "title" and self._svg_depth:
            self._in_title = True
            self.svg_titles.append("")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "th":
            self.ths.append(a)
        for k in ("src", "href", "xlink:href", "action", "poster", "data"):
            if a.get(k):
                self.urls.append(a[k])

    def handle_endtag(self, tag):
        if tag == "svg":
            self._svg_depth -= 1
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title and self._svg_depth:
            self.svg_titles[-1] += data


def _scan(html: str) -> _Scan:
    s = _Scan()
    s.feed(html)
    return s


def _visible_text(html: str) -> str:
    return re.sub(r'src="data:[^"]*"', "", html)


def test_report_is_self_contained_and_complete(demo_ctx, demo_report):
    html = demo_report.read_text(encoding="utf-8")
    s = _scan(html)
    for aid in demo_ctx.squad["athlete_id"]:
        assert aid in html
    assert s.html_lang == "en"
    assert not [u for u in s.urls if not u.startswith(("data:image/png;base64,", "#"))]
    assert "http://" not in _visible_text(html) and "https://" not in _visible_text(html)
    assert "url(" not in html and "<link" not in html
    # one inline script (the squad table's sort and filter), nothing loaded from anywhere
    assert re.findall(r"<script\b[^>]*>", html) == ["<script>"]
    script = html.split("<script>")[1].split("</script>")[0]
    assert not re.search(r"fetch\(|XMLHttpRequest|import\(|src\s*=|https?:", script)
    assert "@page { size: A4; margin: 12mm; }" in html
    assert GUARD_RAIL in html
    assert "simulator truth" in html.lower()
    assert "no strength block running" in html  # the last demo athlete is not in a block
    assert "Insufficient data" in html
    assert "What to change first" in html
    assert all(th.get("scope") in ("col", "row") for th in s.ths)


def test_every_chart_has_meaningful_alt(demo_ctx, demo_report):
    html = demo_report.read_text(encoding="utf-8")
    s = _scan(html)
    # squad: 2 family bars + 2 beeswarms + dependence, as PNG images
    assert len(s.imgs) == 5
    for img in s.imgs:
        assert img["src"].startswith("data:image/png;base64,")
        alt = (img.get("alt") or "").strip()
        assert len(alt) > 30, alt
    # per athlete, inline SVG: hamstring waterfall, transfer waterfall if in a block, risk trend
    n = len(demo_ctx.squad)
    n_transfer = int(demo_ctx.squad["in_strength_block"].sum())
    assert [a.get("class") for a in s.svgs].count("chart chart-waterfall") == n + n_transfer
    assert [a.get("class") for a in s.svgs].count("chart chart-trend") == n
    assert len(s.svg_titles) == len(s.svgs)
    for svg, title in zip(s.svgs, s.svg_titles, strict=True):
        assert svg.get("role") == "img"
        label = (svg.get("aria-label") or "").strip()
        assert len(label) > 30, label
        assert title == label
    # each one is well-formed XML (as an SVG file would need to be)
    chunks = re.findall(r"<svg\b.*?</svg>", html, flags=re.S)
    assert len(chunks) == len(s.svgs)
    for chunk in chunks:
        assert ET.fromstring(chunk).tag == "svg"
    # every athlete section has its waterfall and its trend
    for aid in demo_ctx.squad["athlete_id"]:
        section = html.split(f'aria-labelledby="athlete-{aid.lower()}-h"')[1].split(
            '<section class="athlete'
        )[0]
        assert (
            section.count('class="chart chart-waterfall"') >= 1
            and section.count('class="chart chart-trend"') == 1
        )
        assert f"Bar chart for {aid}" in section and f"Line chart of {aid}" in section


def test_heading_levels_never_skip(demo_report):
    levels = _scan(demo_report.read_text(encoding="utf-8")).headings
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False))


def test_coach_sections_show_whole_percents_not_log_odds(demo_ctx, demo_report):
    html = _visible_text(demo_report.read_text(encoding="utf-8"))
    coach = html.split('id="methods"')[0]
    assert "log-odds" not in coach.lower() and "shap" not in coach.lower()
    assert not re.search(r"\d+\.\d+%", coach)
    top = demo_ctx.squad.sort_values("hamstring_risk", ascending=False).iloc[0]
    assert f"{100 * top.hamstring_risk:.0f}%" in coach
    assert "log-odds" not in html.lower()  # the appendix explains SHAP in plain words
    assert "SHAP values (a standard way" in html.split('id="methods"')[1]


def test_squad_table_sorted_by_risk_with_insufficient_last(demo_ctx, demo_report):
    html = demo_report.read_text(encoding="utf-8")
    table = html.split('id="squad"')[1].split("</table>")[0]
    order = re.findall(r'<th scope="row"><a href="#athlete-[^"]+">([^<]+)</a></th>', table)
    sq = demo_ctx.squad
    ok = sq[~sq["insufficient_data"]].sort_values("hamstring_risk", ascending=False)["athlete_id"].tolist()
    assert order == ok + sq[sq["insufficient_data"]]["athlete_id"].tolist()
    first_row = table.split("<tbody>")[1].split("</tr>")[0]
    assert ("Flag" in first_row) == bool(sq.set_index("athlete_id").at[order[0], "hamstring_flag"])


def test_simulated_banner_only_when_simulated(demo_ctx):
    small = build_demo_context(n_athletes=2, seed=3)
    sim = render_html(small)
    assert sim.count("SIMULATED DATA") == 2  # banner + fixed print footer
    real = render_html(dataclasses.replace(small, simulated=False))
    assert "SIMULATED DATA" not in real and "simulated" not in real.lower().split('id="methods"')[0]


def test_rerender_is_byte_identical(demo_ctx, demo_report, tmp_path):
    again = render_report(demo_ctx, tmp_path / "again.html")
    assert again.read_bytes() == demo_report.read_bytes()
    assert not list(tmp_path.glob(".*.tmp"))


def test_render_overwrites_atomically(tmp_path):
    ctx = build_demo_context(n_athletes=2, seed=1)
    out = tmp_path / "sub" / "r.html"
    out.parent.mkdir()
    out.write_text("old")
    assert render_report(ctx, out) == out
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in out.parent.iterdir()] == ["r.html"]


def test_pseudonymised_mode_hides_real_ids(monkeypatch):
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    ctx = build_demo_context(n_athletes=3, seed=2)
    ctx = dataclasses.replace(
        ctx,
        pseudonymised=True,
        drift_warnings=["SQD-001 has no wellness reports this week."],
        left_out=["SQD-099"],  # a scored athlete a cap left out is named by alias too
    )
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(PseudonymKeyError):
        render_html(ctx)
    monkeypatch.setenv(KEY_ENV, KEY.decode())
    html = render_html(ctx)
    aliases = pseudonymise_ids(ctx.squad["athlete_id"], key=KEY)
    for real, alias in aliases.items():
        assert real not in html
        assert alias in html
    assert "SQD-099" not in html and pseudonymise_ids(["SQD-099"], key=KEY)["SQD-099"] in html
    assert "names replaced by codes" in html
    # already-pseudonymised input is left as it is (no alias of an alias), and needs no key
    monkeypatch.delenv(KEY_ENV)
    pre = dataclasses.replace(
        ctx,
        **{
            name: getattr(ctx, name).assign(athlete_id=getattr(ctx, name)["athlete_id"].map(aliases))
            for name in ("squad", "drivers", "family_contributions", "shap_long", "history", "levers")
        },
        drift_warnings=[],
        left_out=[],
        interaction=ctx.interaction.assign(athlete_id=ctx.interaction["athlete_id"].map(aliases)),
    )
    html2 = render_html(pre)
    assert all(a in html2 for a in aliases.values())
    assert all(is_alias(a) for a in aliases.values())


def test_minimal_context_without_optional_parts():
    ctx = build_demo_context(n_athletes=2, seed=5)
    bare = dataclasses.replace(
        ctx,
        history=None,
        levers=None,
        interaction=None,
        drift_warnings=[],
        known_limits=[],
        metrics={"hamstring": {"model": {"roc_auc": 0.7}}},
        models=[],
    )
    html = render_html(bare)
    assert "What to change first" not in html and "week by week" not in html
    assert "No drift warnings" in html
    assert GUARD_RAIL in html


def test_validate_names_missing_columns():
    ctx = build_demo_context(n_athletes=2)
    bad = dataclasses.replace(ctx, squad=ctx.squad.drop(columns=["hamstring_flag"]))
    with pytest.raises(ValueError, match="hamstring_flag"):
        render_html(bad)


def test_demo_context_is_deterministic_and_consistent():
    a, b = build_demo_context(seed=7), build_demo_context(seed=7)
    pd.testing.assert_frame_equal(a.squad, b.squad)
    pd.testing.assert_frame_equal(a.shap_long, b.shap_long)
    assert isinstance(a, ReportContext)
    a.validate()
    sq = a.squad
    assert sq["hamstring_risk"].between(0, 1).all()
    assert (sq["hamstring_flag"] == (sq["hamstring_risk"] >= a.flag_threshold)).all()
    assert sq.loc[~sq["in_strength_block"], "transfer_probability"].isna().all()
    assert set(a.drivers["rank"]) == {1, 2, 3, 4}
    assert (
        np.isfinite(a.interaction[["strength_change_since_test_pct", "control_score", "shap_strength"]])
        .all()
        .all()
    )


def test_close_call_names_both_families_and_clear_lead_names_one():
    ctx = build_demo_context(n_athletes=2, seed=3)
    fc = ctx.family_contributions.copy()
    sq = ctx.squad.copy()
    a, b = sorted(sq["athlete_id"])[:2]
    for aid, timing in ((a, -0.9), (b, -0.2)):  # strength 1.0 leads; timing at 90 % (close) or 20 % (clear)
        m = (fc["athlete_id"] == aid) & (fc["model"] == "hamstring")
        fc.loc[m, "shap"] = fc.loc[m, "family"].map({"strength": 1.0, "timing": timing}).fillna(0.0)
        sq.loc[sq["athlete_id"] == aid, ["dominant_family_hamstring", "insufficient_data"]] = [
            "strength",
            False,
        ]
    html = render_html(dataclasses.replace(ctx, family_contributions=fc, squad=sq))
    strength, timing = ctx.family_label("strength"), ctx.family_label("timing")
    assert html.count(f"<td>{strength}, about level with {timing}</td>") == 1
    assert html.count(f"<td>{strength}</td>") >= 1


def test_close_calls_name_the_runner_up_of_each_close_athlete_and_outcome():
    from sprintlab.report.render import close_calls

    rows = [
        ("A", "hamstring", "strength", 1.0),
        ("A", "hamstring", "timing", -0.9),  # 90 % of the leader: close, timing second
        ("A", "transfer", "strength", 0.5),  # one family alone (the others count 0): clear
        ("B", "hamstring", "strength", 1.0),
        ("B", "hamstring", "timing", 0.2),  # 20 %: clear
        ("C", "hamstring", "wellness", 0.3),
        ("C", "hamstring", "load", -0.3),  # a tie: load leads (first in FAMILIES), wellness second
        ("C", "hamstring", "not_a_family", 9.0),  # outside FAMILIES: left out
    ]
    fc = pd.DataFrame(rows, columns=["athlete_id", "model", "family", "shap"])
    assert close_calls(fc) == {("A", "hamstring"): "timing", ("C", "hamstring"): "wellness"}
    assert close_calls(fc.iloc[:0]) == {}


def test_athlete_rows_are_the_rows_of_the_athlete_and_outcome_in_order():
    ctx = build_demo_context(n_athletes=6, seed=5)
    for aid in ctx.squad["athlete_id"].astype(str):
        for name in ("drivers", "shap_long", "family_contributions"):
            frame = getattr(ctx, name)
            for model in ("hamstring", "transfer"):
                want = frame[(frame["athlete_id"].astype(str) == aid) & (frame["model"] == model)]
                pd.testing.assert_frame_equal(ctx.athlete_rows(name, aid, model), want)
            pd.testing.assert_frame_equal(ctx.athlete_rows(name, aid), frame[frame["athlete_id"] == aid])
    assert ctx.athlete_rows("drivers", "nobody", "hamstring").empty
    assert list(ctx.athlete_rows("drivers", "nobody").columns) == list(ctx.drivers.columns)


def test_squad_section_says_whose_numbers_it_explains():
    ctx = build_demo_context(n_athletes=6, seed=5)
    sq = ctx.squad
    n_block = int((sq["in_strength_block"] & sq["transfer_probability"].notna()).sum())
    n_risk = int((~sq["insufficient_data"]).sum())
    assert 0 < n_block < len(sq) and n_risk < len(sq)
    html = _visible_text(render_html(ctx))
    assert f"Hamstring risk: the {n_risk} athletes with enough data." in html
    assert f"Transfer chance: the {n_block} athlete{'s' if n_block != 1 else ''} in a strength block." in html
    assert "For hamstring risk it is a starting point for the conversation, not a diagnosis" in html
    none = dataclasses.replace(ctx, squad=sq.assign(in_strength_block=False, transfer_probability=np.nan))
    assert "no athlete is in a strength block this week, so there is no transfer picture" in _visible_text(
        render_html(none)
    )


def _long(shaps: dict[str, tuple[str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"model": "hamstring", "athlete_id": "A", "feature": f, "family": fam, "value": 1.0, "shap": v}
            for f, (fam, v) in shaps.items()
        ]
    )


def test_waterfall_names_drivers_until_other_factors_is_not_the_largest_bar():
    from sprintlab.domain import FAMILY_LABELS, sigmoid
    from sprintlab.report.charts import waterfall_steps
    from sprintlab.report.render import MAX_NAMED_BARS, named_bars

    # three drivers of 0.3 log-odds and twelve of 0.15: the top three alone leave 1.8 to "other"
    shaps = {f"big{i}": ("load", 0.3) for i in range(3)}
    shaps |= {f"small{i:02d}": ("wellness" if i % 2 else "history", 0.15) for i in range(12)}
    shaps["tiny"] = ("timing", 0.001)
    long = _long(shaps)
    total = float(long["shap"].sum())
    p = float(sigmoid(-2.5 + total))
    drivers = long.head(3).assign(rank=[1, 2, 3])
    bars, other = named_bars(drivers, long, p, total, dict(FAMILY_LABELS))
    steps = waterfall_steps(p, bars["shap"].tolist(), total)
    moves = [abs(b - a) for a, b in steps]
    assert 3 < len(bars) <= MAX_NAMED_BARS and "tiny" not in set(bars["feature"])
    assert moves[-1] <= max(moves[:-1]) or other.startswith("Other factors (mostly ")
    assert all(m * 100 >= 0.5 for m in moves[:-1])  # no bar for a zero
    assert bars["rank"].tolist() == list(range(1, len(bars) + 1))


def test_waterfall_bars_point_the_way_the_number_moves(demo_ctx, demo_report):
    html = demo_report.read_text(encoding="utf-8")
    pairs = re.findall(
        r'<rect class="bar"[^>]*data-delta="(-?[\d.]+)" x="([\d.]+)"[^>]*width="([\d.]+)"[^>]*/>'
        r'<path class="arrow" d="M([\d.]+) [\d.]+L([\d.]+) ',
        html,
    )
    assert len(pairs) > 2 * len(demo_ctx.squad)
    for delta, x, w, base, tip in pairs:
        d = float(delta)
        assert abs(d) >= 0.5  # no zero bars
        if d > 0:
            assert float(tip) > float(base) >= float(x) + float(w) - 0.1
        else:
            assert float(tip) < float(base) <= float(x) + 0.1
    labels = re.findall(r'class="delta"[^>]*>([^<]+)</text>', html)
    assert labels and not [t for t in labels if t in ("±0 pts", "+0 pts", "−0 pts")]


@pytest.mark.parametrize(
    ("good", "poor", "words"),
    [
        (0.3, 0.1, "raised transfer chance, more with good control"),
        (-0.05, -0.4, "lowered transfer chance, more with poor control"),
        (0.2, -0.2, "raised transfer chance with good control and lowered it with poor control"),
        (0.2, 0.19, "raised transfer chance about as much with good as with poor control"),
        (1e-5, -1e-5, "hardly moved transfer chance, whatever the control"),
    ],
)
def test_strength_control_title_says_what_the_dots_show(good, poor, words):
    from sprintlab.report.render import interaction_finding

    inter = pd.DataFrame(
        {
            "strength_change_since_test_pct": [4.0, 5.0, 6.0, 7.0, -2.0],
            "control_score": [4.5, 4.0, 2.0, 1.5, 5.0],
            "shap_strength": [good, good, poor, poor, -3.0],  # a strength loss is not a gain: left out
        }
    )
    assert interaction_finding(inter) == f"In these weeks strength gains {words}"


def test_no_strength_control_chart_without_athletes_in_a_block():
    ctx = build_demo_context(n_athletes=4, seed=2)
    squad = ctx.squad.assign(in_strength_block=False, transfer_probability=float("nan"))
    html = render_html(replace(ctx, squad=squad))
    assert "There is no strength-control picture this week: no athlete is in a strength block." in html
    assert "Scatter chart" not in html


def test_a_new_factor_family_just_appears(monkeypatch):
    from sprintlab import domain
    from sprintlab.report import charts, render

    families = (*domain.FAMILIES, "bounce-back")
    for module in (domain, charts, render):
        monkeypatch.setattr(module, "FAMILIES", families)
    monkeypatch.setitem(domain.FAMILY_LABELS, "bounce-back", "Test-day variation / regression to own level")
    ctx = build_demo_context(n_athletes=3, seed=1)
    drivers = ctx.drivers.copy()
    drivers.loc[drivers["rank"] == 1, "family"] = "bounce-back"
    long = ctx.shap_long.copy()
    long.loc[long["feature"].isin(set(drivers.loc[drivers["rank"] == 1, "feature"])), "family"] = (
        "bounce-back"
    )
    html = render_html(replace(ctx, drivers=drivers, shap_long=long))
    assert ".swatch.fam-bounce-back { background: #56B4E9; }" in html
    assert 'data-family="bounce-back"' in html and 'fill="#56B4E9"' in html
    assert "Test-day variation / regression to own level" in html


def _top_share_context(
    share: float = 0.10, n_thin: int = 0, ranked: int | None = None, evaluated: float | None = None
):
    """The demo week (6 athletes) with the hamstring flag as a weekly top ``share`` (params.yaml:
    0.10) and the evaluation's figures of the top ``evaluated`` (default: ``share``)."""
    from sprintlab.models.flag_policy import FlagPolicy, policy_label
    from sprintlab.scoring import with_flags

    ctx = build_demo_context(seed=7)
    sq = ctx.squad.copy()
    sq.loc[sq.index[:n_thin], "insufficient_data"] = True
    sq.loc[sq.index[:n_thin], "hamstring_risk"] = np.nan
    sq = with_flags(sq, FlagPolicy(threshold=ctx.flag_threshold, share=share, seed=7))
    metrics = {**ctx.metrics}
    metrics["hamstring"] = {
        **metrics["hamstring"],
        "model": {
            **metrics["hamstring"]["model"],
            "flag_policy": policy_label(share if evaluated is None else evaluated),
            "flag_rate": 0.1027,
            "sensitivity": 0.0641,
            "precision": 0.0152,
            "injuries_caught": 5,
        },
        "n_test_injuries": 21,
    }
    return replace(ctx, squad=sq, metrics=metrics, flag_top_share=share, flag_ranked=ranked)


def test_report_names_the_top_share_policy_and_the_number_flagged():
    ctx = _top_share_context(share=0.4, n_thin=1)
    sq = ctx.squad
    n = int((sq["hamstring_risk"].notna() & ~sq["insufficient_data"]).sum())
    k = int(np.ceil(0.4 * n))
    assert n == 4 and k == 2 and sq["hamstring_flag"].sum() == k  # 6 athletes, 2 with insufficient data
    cut = float(sq.loc[sq["hamstring_flag"], "hamstring_risk"].min())
    text = html_lib.unescape(_visible_text(render_html(ctx)))
    assert f"{k} flagged for hamstring risk" in text
    assert (
        f"the {k} highest of {n} hamstring risks this week, the squad's top 40%; cut-off {100 * cut:.0f}%"
        in text
    )
    assert f"this week {k} of {n}" in text and "policy evaluated in hamstring.json" in text
    assert "sensitivity 0.06" in text and "precision 0.02" in text and "5 of 21 injuries caught" in text
    assert "20% or more" not in text  # no threshold sentence left


def test_report_trend_chart_draws_this_weeks_cut_off_under_a_top_share():
    ctx = _top_share_context()
    sq = ctx.squad
    cut = float(sq.loc[sq["hamstring_flag"], "hamstring_risk"].min())
    html = render_html(ctx)
    assert f"this week's cut-off {100 * cut:.0f}%" in html
    assert "flag at 20%" not in html and "flag line at 20%" not in html


def test_report_says_one_athlete_of_a_tiny_squad_is_flagged():
    ctx = _top_share_context()
    n = int((ctx.squad["hamstring_risk"].notna() & ~ctx.squad["insufficient_data"]).sum())
    text = html_lib.unescape(_visible_text(render_html(ctx)))
    assert "1 flagged for hamstring risk" in text
    assert (
        f"the highest of {n} hamstring risks this week: the squad's top 10% of {n} rounds up to one athlete"
        in text
    )
    one = ctx.squad.assign(insufficient_data=ctx.squad["athlete_id"] != ctx.squad["athlete_id"].iloc[-1])
    one = one.assign(
        hamstring_flag=~one["insufficient_data"],
        hamstring_risk=one["hamstring_risk"].where(~one["insufficient_data"]),
    )
    text = html_lib.unescape(_visible_text(render_html(replace(ctx, squad=one))))
    assert (
        "the only hamstring risk this week: the squad's top 10% of a squad of one rounds up to one athlete"
        in text
    )


def test_report_context_checks_the_top_share():
    ctx = _top_share_context()
    with pytest.raises(ValueError, match="flag_top_share"):
        replace(ctx, flag_top_share=1.5).validate()
    with pytest.raises(ValueError, match="flag_ranked"):
        replace(ctx, flag_ranked=3).validate()
    everyone = ctx.squad.assign(hamstring_flag=ctx.squad["hamstring_risk"].notna())
    with pytest.raises(ValueError, match="more than the top 0.1"):
        replace(ctx, squad=everyone).validate()
    replace(ctx, flag_ranked=len(ctx.squad) + 50).validate()  # a capped report ranks more than it shows


def test_report_quotes_the_evaluation_only_for_the_share_it_evaluated():
    ctx = _top_share_context(share=0.4, evaluated=0.1)  # the metrics evaluated the top 0.1, not 0.4
    text = html_lib.unescape(_visible_text(render_html(ctx)))
    assert "policy evaluated in hamstring.json" not in text and "sensitivity 0.06" not in text
    assert "The model's metrics carry no evaluation of the weekly top 40%." in text


def _appendix_text(ctx) -> str:
    """The methods appendix as plain text: tags dropped, whitespace collapsed."""
    html = render_html(ctx)
    appendix = html[html.index('id="methods"') : html.index("</section>", html.index('id="methods"'))]
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", appendix)))


def _evaluation_context():
    """The demo context with hand-made hamstring metrics: Briers and a three-threshold decision curve."""
    ctx = build_demo_context()
    block = {"roc_auc": 0.7, "pr_auc": 0.1, "brier": 0.020, "calibration_slope": 1.0}
    curve = [(0.01, 0.010, 0.012), (0.02, 0.004, 0.002), (0.03, -0.001, -0.008)]
    metrics = {
        **ctx.metrics,
        "hamstring": {
            "model": block,
            "baselines": {
                "prevalence": {**block, "brier": 0.025},
                "acwr_threshold": {**block, "brier": 0.030},
            },
            "net_benefit": {
                "model": [{"threshold": t, "net_benefit": nb, "flag_all": fa} for t, nb, fa in curve],
                "acwr_threshold": [
                    {"threshold": t, "net_benefit": nb, "flag_all": fa}
                    for (t, _, fa), nb in zip(curve, [0.011, 0.0, 0.0], strict=True)
                ],
            },
        },
    }
    return replace(ctx, metrics=metrics)


def test_methods_appendix_gives_brier_skill_against_the_average_chance():
    text = _appendix_text(_evaluation_context())
    # 1 - 0.020 / 0.025 = +0.20 for the model; the load-ratio rule 1 - 0.030 / 0.025 = -0.20
    assert re.search(r"sprintlab model 0\.70 0\.10 0\.020 1\.00 \+0\.20", text)
    assert re.search(
        r"Load-ratio rule \(acute:chronic workload high\) 0\.70 0\.10 0\.030 1\.00 −0\.20",
        text,
    )


def test_methods_appendix_gives_the_decision_curve_and_says_where_the_model_is_worth_using():
    text = _appendix_text(_evaluation_context())
    # per 1,000 athlete-weeks: model +10.0 +4.0 -1.0; flag everyone +12.0 +2.0 -8.0
    assert "sprintlab model +10.0 +4.0 −1.0" in text and "Load-ratio rule +11.0 +0.0 +0.0" in text
    assert "Flag every athlete-week +12.0 +2.0 −8.0" in text and "Flag no one +0.0 +0.0 +0.0" in text
    # only at 2 % does the model beat both (4.0 > max(2.0, 0)); the rule beats it at 1 % and 3 %
    assert "worth more than flagging everyone or no one at a threshold of 2%" in text
    assert "higher net benefit: load-ratio rule at 2 of the 3 thresholds." in text


def test_a_missing_net_benefit_is_a_dash_not_a_traceback():
    ctx = _evaluation_context()
    curves = ctx.metrics["hamstring"]["net_benefit"]
    curves["model"][0] = {**curves["model"][0], "net_benefit": None}  # nan_to_none of an undefined value
    text = _appendix_text(ctx)
    assert "sprintlab model – +4.0 −1.0" in text


def test_page_one_never_gives_bounce_back_as_a_cause_to_train():
    """When an athlete's largest transfer driver is test-day variation (bounce-back), page one's
    one-line why says so - it is not a training effect - before the measured sentence."""
    ctx = build_demo_context(seed=7)
    in_block = ctx.squad.loc[ctx.squad["in_strength_block"], "athlete_id"].astype(str).tolist()
    assert in_block
    aid = in_block[0]
    drivers = ctx.drivers.copy()
    top = (
        (drivers["athlete_id"].astype(str) == aid) & (drivers["model"] == "transfer") & (drivers["rank"] == 1)
    )
    sentence = "Latest 0-10 m time against the athlete's first (baseline) test: 0.11 s faster - lowers transfer chance"
    drivers.loc[top, ["feature", "family", "text"]] = ["t10_vs_first_test_s", "bounce_back", sentence]
    html = " ".join(html_lib.unescape(_visible_text(render_html(replace(ctx, drivers=drivers)))).split())
    expected = (
        "Test-day variation (regression to own level), not a training effect: "
        "latest 0-10 m time against the athlete's first (baseline) test: 0.11 s faster"
    )
    assert expected in html
    # the other athletes' lines are the drivers' own sentences, unprefixed
    assert html.count("not a training effect:") == 1


def test_each_page_one_table_shows_the_first_change_for_its_own_outcome():
    """An athlete flagged *and* in a strength block: the flagged table shows the first change for
    hamstring risk, the strength-block table the first change for transfer chance (the athlete's
    page keeps one priority, the flagged outcome first)."""
    ctx = build_demo_context(seed=7)
    both = ctx.squad.loc[ctx.squad["in_strength_block"] & ctx.squad["hamstring_flag"], "athlete_id"]
    assert len(both)
    aid = str(both.iloc[0])
    rows = ctx.levers[ctx.levers["athlete_id"].astype(str) == aid]
    hamstring_text = str(rows.loc[rows["model"] == "hamstring", "text"].iloc[0])
    transfer_text = str(rows.loc[rows["model"] == "transfer", "text"].iloc[0])
    html = html_lib.unescape(render_html(ctx))
    page_one = html[html.index('id="answer"') : html.index('id="squad"')]
    flagged, block = page_one.split("In a strength block", 1)
    flagged_row = flagged[flagged.index(f">{aid}<") :].split("</tr>", 1)[0]
    block_row = block[block.index(f">{aid}<") :].split("</tr>", 1)[0]
    assert hamstring_text in flagged_row and transfer_text not in flagged_row
    assert transfer_text in block_row and hamstring_text not in block_row
