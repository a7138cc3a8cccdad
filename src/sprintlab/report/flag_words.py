"""What the hamstring flag means this week, in the report's words, computed from the scored squad.

The flag is one policy (:class:`sprintlab.models.flag_policy.FlagPolicy`): with a weekly top share
(``params.yaml`` ``train.hamstring.flag_top_share``) the ``ceil(share * n)`` highest risks of the
``n`` athletes with a risk, else a fixed risk threshold. These sentences say which, how many were
flagged, this week's cut-off (the lowest flagged risk) and, from the model's metrics, what the
evaluation measured for that policy; no figure is written here by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sprintlab.models.flag_policy import policy_label
from sprintlab.report.charts import pct
from sprintlab.report.context import ReportContext


@dataclass(frozen=True)
class FlagWords:
    """The flag's sentences and the risk chart's line.

    ``rule``: page one's parenthesis after "N flagged"/"Nobody is flagged"; ``meaning``: what a
    Flag badge means; ``methods``: the appendix sentence; ``line``: the risk the trend chart draws
    as the flag line (``None``: no line) with ``line_label`` beside it and ``line_alt`` for its
    text alternative."""

    rule: str
    meaning: str
    methods: str
    line: float | None
    line_label: str
    line_alt: str


def flagged_risks(ctx: ReportContext) -> np.ndarray:
    """The hamstring risks of the athletes flagged this week (insufficient data never counts)."""
    sq = ctx.squad
    flagged = sq["hamstring_flag"].fillna(False).astype(bool) & ~sq["insufficient_data"].astype(bool)
    return sq.loc[flagged, "hamstring_risk"].to_numpy(dtype=float)


def _threshold_words(threshold: float) -> FlagWords:
    """A flag at a fixed risk threshold."""
    t = pct(threshold)
    return FlagWords(
        rule=f"risk {t} or more in the next 28 days",
        meaning=f"means {t} or more",
        methods=f"The hamstring flag is raised at a risk of {t} or more.",
        line=threshold,
        line_label=f"flag at {t}",
        line_alt=f"flag line at {t}",
    )


def _ranking_phrase(k: int, n: int, share: float) -> str:
    """ "the 3 highest of 25 hamstring risks this week, the squad's top 10%", honest for tiny squads
    (one athlete is flagged of any squad up to ``1 / share``)."""
    top = f"the squad's top {pct(share)}"
    if n == 1:
        return f"the only hamstring risk this week: {top} of a squad of one rounds up to one athlete"
    if k == 1 and share * n < 1:
        return f"the highest of {n} hamstring risks this week: {top} of {n} rounds up to one athlete"
    highest = "the highest" if k == 1 else f"the {k} highest"
    return f"{highest} of {n} hamstring risks this week, {top}"


def _finite(value: Any) -> float | None:
    """``value`` as a finite float, else ``None``."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None


def evaluation_sentence(metrics: dict[str, Any], share: float) -> str:
    """What ``hamstring.json`` measured for the weekly top ``share`` (its ``model`` block, when it
    evaluated that same share: :func:`sprintlab.models.flag_policy.policy_label`)."""
    ham = metrics.get("hamstring") or {}
    model = ham.get("model") or {}
    if model.get("flag_policy") != policy_label(share):
        return f"The model's metrics carry no evaluation of the weekly top {pct(share)}."
    rate, sens, prec, caught = (
        _finite(model.get(k)) for k in ("flag_rate", "sensitivity", "precision", "injuries_caught")
    )
    if rate is None or sens is None or prec is None or caught is None:
        return f"The model's metrics carry no evaluation of the weekly top {pct(share)}."
    n_inj = _finite(ham.get("n_test_injuries"))
    injuries = f"{int(caught)}" + (f" of {int(n_inj)}" if n_inj is not None else "")
    return (
        f"This is the policy evaluated in hamstring.json: on the held-out athlete-weeks it flagged "
        f"{rate:.1%} of them, with sensitivity {sens:.2f} (share of weeks before an injury that were "
        f"flagged) and precision {prec:.2f} at that flag rate; {injuries} injuries caught."
    )


def _share_words(ctx: ReportContext, share: float) -> FlagWords:
    """A flag on the week's top ``share`` of the athletes with a risk."""
    n, risks = ctx.ranked_count(), flagged_risks(ctx)
    k = int(risks.size)
    cut = float(risks.min()) if k else None
    if cut is None:
        rule = (
            "nobody has a hamstring risk this week" if n == 0 else f"none of {n} hamstring risks is flagged"
        )
        return FlagWords(
            rule=rule,
            meaning=f"marks the athletes whose risk ranks in the squad's top {pct(share)} this week",
            methods=f"The hamstring flag marks each week the squad's top {pct(share)} of risks; {rule}. "
            + evaluation_sentence(ctx.metrics or {}, share),
            line=None,
            line_label="",
            line_alt="no flag line: nobody is flagged this week",
        )
    phrase = _ranking_phrase(k, n, share)
    return FlagWords(
        rule=f"{phrase}; cut-off {pct(cut)}",
        meaning=f"marks {phrase} (this week's cut-off {pct(cut)}: a ranking of the squad, not a fixed risk level)",
        methods=(
            f"The hamstring flag ranks the squad each week: the ceil({pct(share)} × n) highest risks of the n "
            f"athletes with enough data are flagged (ties broken at random with a fixed seed; athletes "
            f"with insufficient data are never flagged and do not count), this week {k} of {n}. "
            + evaluation_sentence(ctx.metrics or {}, share)
        ),
        line=cut,
        line_label=f"this week's cut-off {pct(cut)}",
        line_alt=f"dashed line: this week's flag cut-off, {pct(cut)} (the lowest of the {k} flagged risks)",
    )


def flag_words(ctx: ReportContext) -> FlagWords:
    """The flag's sentences for ``ctx``: its weekly top share when set, else its threshold."""
    if ctx.flag_top_share is None:
        return _threshold_words(ctx.flag_threshold)
    return _share_words(ctx, float(ctx.flag_top_share))
