"""Everything the weekly report needs, in one immutable object (built by the pipeline or the demo)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from sprintlab.domain import FAMILY_LABELS, TARGETS
from sprintlab.models.flag_policy import flag_count

# Okabe-Ito colour-blind-safe palette; used for bars and swatches only (text stays dark on light).
FAMILY_COLOURS: dict[str, str] = {
    "strength": "#0072B2",
    "control": "#009E73",
    "timing": "#E69F00",
    "bounce_back": "#56B4E9",
    "load": "#D55E00",
    "wellness": "#CC79A7",
    "history": "#7F7F7F",
}
OTHER_COLOUR = "#BDBDBD"
#: colours for families beyond the six above (a family added to ``domain.FAMILIES`` just appears)
EXTRA_COLOURS = ("#56B4E9", "#882255", "#999933", "#332288", "#44AA99")


def family_colour(family: str) -> str:
    """A family's colour: its own for the six above, else the next extra colour by its place in
    ``domain.FAMILIES`` (grey for a family outside it)."""
    from sprintlab.domain import FAMILIES

    if family in FAMILY_COLOURS:
        return FAMILY_COLOURS[family]
    extra = [f for f in FAMILIES if f not in FAMILY_COLOURS]
    return EXTRA_COLOURS[extra.index(family) % len(EXTRA_COLOURS)] if family in extra else OTHER_COLOUR


#: each outcome in the coach's words (``Target.outcome_words``), by outcome name
MODEL_WORDS: dict[str, str] = {name: spec.outcome_words for name, spec in TARGETS.items()}

SQUAD_COLUMNS = (
    "athlete_id",
    "hamstring_risk",
    "hamstring_flag",
    "transfer_probability",
    "in_strength_block",
    "dominant_family_hamstring",
    "dominant_family_transfer",
    "insufficient_data",
    "data_freshness_days",
)
DRIVER_COLUMNS = ("athlete_id", "model", "rank", "feature", "family", "value", "unit", "shap", "text")
FAMILY_CONTRIB_COLUMNS = ("athlete_id", "model", "family", "shap")
FAMILY_IMPORTANCE_COLUMNS = ("model", "family", "mean_abs_shap")
SHAP_LONG_COLUMNS = ("model", "athlete_id", "feature", "family", "value", "shap")
INTERACTION_COLUMNS = ("strength_change_since_test_pct", "control_score", "shap_strength")
HISTORY_COLUMNS = ("athlete_id", "week_end", "hamstring_risk")
LEVER_COLUMNS = ("athlete_id", "model", "lever", "text", "effect", "baseline_prob", "new_prob", "low", "high")


def ranked_count(squad: pd.DataFrame) -> int:
    """The athletes of a scored squad the hamstring flag ranks: with a risk, without insufficient data."""
    thin = squad["insufficient_data"].fillna(True).astype(bool)
    return int((squad["hamstring_risk"].notna() & ~thin).sum())


@dataclass(frozen=True)
class ReportContext:
    """Inputs of one weekly report. Frames are read, never modified, by the renderer.

    ``shap`` columns are in log-odds (the model's raw output scale); the coach-facing parts of the
    report convert them to percentage points or shares, and only the methods appendix names log-odds.
    """

    title: str
    week_label: str
    data_window: tuple[str, str]
    generated_at: str
    simulated: bool
    pseudonymised: bool
    squad: pd.DataFrame
    drivers: pd.DataFrame
    family_contributions: pd.DataFrame
    family_importance: pd.DataFrame
    shap_long: pd.DataFrame
    interaction: pd.DataFrame | None
    metrics: dict
    models: list[dict]
    family_labels: dict[str, str]
    history: pd.DataFrame | None = None
    levers: pd.DataFrame | None = None
    drift_warnings: list[str] = field(default_factory=list)
    known_limits: list[str] = field(default_factory=list)
    flag_threshold: float = 0.2  # the flag's risk threshold when there is no weekly top share
    # the hamstring flag as a weekly top share of the squad (params.yaml train.hamstring.flag_top_share;
    # None: the threshold above) and how many athletes with a risk it ranked this week (None: those of
    # ``squad``; set it when a report.max_athletes cap shows fewer than were scored)
    flag_top_share: float | None = None
    flag_ranked: int | None = None
    own_usual_weeks: int = 26  # driver sentences' "own usual": median of this many previous weeks
    not_modelled: dict[str, str] = field(default_factory=dict)  # outcome -> why it has no number
    not_assessed: dict[str, list[str]] = field(default_factory=dict)  # outcome -> families not assessed
    model_note: str | None = None  # on every page: scored by a model trained on simulated athletes
    left_out: list[str] = field(default_factory=list)  # scored athletes a report.max_athletes cap left out
    history_weeks: int | None = None  # the strength-control chart's window, in weeks up to the report week
    main_factor_hidden: tuple[str, ...] = ()  # outcomes whose main factor did not beat a constant

    def validate(self) -> None:
        """Raise ``ValueError`` naming every missing column (optional frames checked when present)."""
        required = {
            "squad": (self.squad, SQUAD_COLUMNS),
            "drivers": (self.drivers, DRIVER_COLUMNS),
            "family_contributions": (self.family_contributions, FAMILY_CONTRIB_COLUMNS),
            "family_importance": (self.family_importance, FAMILY_IMPORTANCE_COLUMNS),
            "shap_long": (self.shap_long, SHAP_LONG_COLUMNS),
            "interaction": (self.interaction, INTERACTION_COLUMNS),
            "history": (self.history, HISTORY_COLUMNS),
            "levers": (self.levers, LEVER_COLUMNS),
        }
        problems = []
        for name, (frame, cols) in required.items():
            if frame is None:
                continue
            if not isinstance(frame, pd.DataFrame):
                problems.append(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
                continue
            missing = [c for c in cols if c not in frame.columns]
            if missing:
                problems.append(f"{name} lacks columns {missing}")
        if (
            self.squad is not None
            and "athlete_id" in self.squad
            and self.squad["athlete_id"].duplicated().any()
        ):
            problems.append("squad has duplicate athlete_id rows")
        if not 0.0 < float(self.flag_threshold) < 1.0:
            problems.append(f"flag_threshold must be in (0, 1), got {self.flag_threshold}")
        problems.extend(self._flag_share_problems())
        if problems:
            raise ValueError("invalid ReportContext: " + "; ".join(problems))

    @cached_property
    def _row_positions(self) -> dict[tuple[str, bool], dict[Any, np.ndarray]]:
        """Per frame (and whether split by model): athlete id (and model) -> row positions."""
        return {}

    def athlete_rows(self, frame: str, athlete_id: str, model: str | None = None) -> pd.DataFrame:
        """The rows of ``athlete_id`` (ids compared as text) and, when given, of ``model`` in the
        per-athlete frame named ``frame`` (``drivers``, ``shap_long``, ``family_contributions``,
        ``history`` or ``levers``), in the frame's order. Each frame is split once (a squad report
        asks some 300 times)."""
        df: pd.DataFrame = getattr(self, frame)
        key = (frame, model is not None)
        if key not in self._row_positions:
            ids = df["athlete_id"].astype(str)
            self._row_positions[key] = df.groupby(
                [ids, df["model"]] if model is not None else ids, sort=False
            ).indices
        found = self._row_positions[key].get((athlete_id, model) if model is not None else athlete_id)
        return df.iloc[found] if found is not None else df.iloc[:0]

    def ranked_count(self) -> int:
        """How many athletes with a risk the week's flag ranked (``flag_ranked``, else counted in
        ``squad``: athletes with a hamstring risk and without insufficient data)."""
        return int(self.flag_ranked) if self.flag_ranked is not None else ranked_count(self.squad)

    def _flag_share_problems(self) -> list[str]:
        """A top share in (0, 1); ``flag_ranked`` at least the athletes shown with a risk and no
        more flagged athletes than the share's ``ceil(share * n)``."""
        share = self.flag_top_share
        if share is None:
            return []
        if not 0.0 < float(share) < 1.0:
            return [f"flag_top_share must be in (0, 1), got {share}"]
        if not {"hamstring_risk", "hamstring_flag", "insufficient_data"} <= set(self.squad.columns):
            return []
        sq = self.squad
        shown = ranked_count(sq)
        n = self.ranked_count()
        if n < shown:
            return [f"flag_ranked ({n}) is below the {shown} athletes shown with a risk"]
        flagged = int(
            (sq["hamstring_flag"].fillna(False).astype(bool) & ~sq["insufficient_data"].astype(bool)).sum()
        )
        k = flag_count(float(share), n)
        if flagged > k:
            return [f"{flagged} athletes flagged, more than the top {share:g} of {n} ({k})"]
        return []

    def family_label(self, family: str | None) -> str:
        if family is None or (isinstance(family, float) and family != family):
            return "Not estimated"
        return self.family_labels.get(family) or FAMILY_LABELS.get(family) or str(family).title()
