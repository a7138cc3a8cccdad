"""Feature builders: what each one reads from the contract tables and which features it returns.

A :class:`Builder` computes a group of catalogue features that share their inputs. It declares

* ``needs``: the contract data it reads - a table with records, a column with at least one value,
  or rows of one kind (:class:`Need`);
* ``uses``: features of earlier builders that it combines (e.g. ``access_ratio``);
* ``produces``: the catalogue features it returns, every one of them whenever it runs.

:func:`sprintlab.features.panel.build_panel` runs every builder whose needs are met; the features
of the others are skipped with the first unmet need as the reason (or, for ``uses``, the reason
the used feature was skipped). Builders read :class:`PanelInputs` and return week-end arrays of
shape ``(n_athletes, n_weeks)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd

from sprintlab.config import InSituParams
from sprintlab.features.grid import DayGrid
from sprintlab.features.sprint_sessions import sprint_sessions
from sprintlab.features.tracking import InSituWeeks, insitu_weeks

Features = dict[str, np.ndarray]
T = TypeVar("T")


@dataclass(frozen=True)
class Need:
    """Contract data a builder reads: ``table`` with records; with ``column``, that column with at
    least one value; with ``value`` too, rows where ``column == value``.

    ``empty_ok``: an empty table is data (the injuries register: nobody was injured); only a
    missing table is not. ``optional_stream``: the table is a data stream many clubs do not record
    (GPS/LPS traces); without it the builder's features are *not recorded* rather than skipped, so
    the panel and its skip list stay those of a club without that stream.
    """

    table: str
    column: str | None = None
    value: str | None = None
    empty_ok: bool = False
    optional_stream: bool = False

    def unmet(self, tables: Mapping[str, pd.DataFrame]) -> str | None:
        """Why ``tables`` do not satisfy this need, or ``None`` when they do."""
        df = tables.get(self.table)
        if df is None or (df.empty and not self.empty_ok):
            return f"no {self.table} table"
        if self.column is None:
            return None
        if self.column not in df or df[self.column].isna().all():
            return f"{self.table} has no {self.column}"
        if self.value is not None and not (df[self.column] == self.value).any():
            return f"no {self.value} rows in {self.table}"
        return None


@dataclass(frozen=True)
class PanelInputs:
    """What builders read: the contract tables on the athlete x day grid, settings, and the values
    that several families share (body mass, sprint sessions, sprint test days, in-situ profiles),
    computed once."""

    tables: Mapping[str, pd.DataFrame]
    grid: DayGrid
    wellness_baseline_days: int
    features: Features = field(default_factory=dict)  # built so far, in registry order
    insitu: InSituParams | None = None  # params.yaml insitu (needed by the in-situ builders)
    _shared: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def shared(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()``, computed once per build under ``key``: a daily array (or its running
        sums) that several builders read, e.g. one wellness item or the back-squat e1RM."""
        if key not in self._shared:
            self._shared[key] = compute()
        return cast(T, self._shared[key])

    @cached_property
    def register(self) -> pd.DataFrame:
        """The athletes table indexed by athlete_id, in grid order."""
        return self.tables["athletes"].set_index("athlete_id").reindex(self.grid.athlete_ids)

    @cached_property
    def body_mass_kg(self) -> np.ndarray:
        """Body mass per athlete (NaN when unknown)."""
        if "body_mass_kg" not in self.register:
            return np.full(self.grid.n_athletes, np.nan)
        return self.register["body_mass_kg"].to_numpy(dtype=float)

    @cached_property
    def sprint_sessions(self) -> pd.DataFrame:
        """One row per sprint session (needs ``sprint_splits``); see :func:`sprint_sessions`."""
        return sprint_sessions(
            self.tables["sprint_splits"], self.tables.get("sprint_steps"), self.tables["athletes"]
        )

    @cached_property
    def sprint_test_days(self) -> np.ndarray:
        """Daily boolean array: True on the days of a sprint session (needs ``sprint_splits``)."""
        return np.isfinite(self.grid.scatter(self.sprint_sessions.assign(one=1.0), "one", "max"))

    @cached_property
    def insitu_weeks(self) -> InSituWeeks:
        """Rolling in-situ profiles and daily top speeds (needs ``tracking_samples`` and
        ``insitu``); see :func:`sprintlab.features.tracking.insitu_weeks`."""
        assert self.insitu is not None
        splits = self.tables.get("sprint_splits")
        test_days = self.sprint_test_days if splits is not None and len(splits) else None
        return insitu_weeks(self.tables["tracking_samples"], self.grid, self.insitu, test_days)

    def latest(self, records: pd.DataFrame, column: str, how: str = "mean") -> np.ndarray:
        """The latest record of ``column`` at each week end, carried forward (never interpolated)."""
        return self.grid.latest_at_week_ends(self.grid.scatter(records, column, how))


@dataclass(frozen=True)
class Builder:
    """A feature builder: ``build`` returns exactly ``produces`` when ``needs`` and ``uses`` are met."""

    produces: tuple[str, ...]
    build: Callable[[PanelInputs], Features]
    needs: tuple[Need, ...] = ()
    uses: tuple[str, ...] = ()
    settings: tuple[str, ...] = ()  # PanelInputs fields that must be given (e.g. "insitu")

    @property
    def name(self) -> str:
        return getattr(self.build, "__name__", repr(self.build))

    def skip_reason(self, tables: Mapping[str, pd.DataFrame], skipped: Mapping[str, str]) -> str | None:
        """Why this builder cannot run (its first unmet need, or why a used feature is absent)."""
        for need in self.needs:
            why = need.unmet(tables)
            if why is not None:
                return why
        return next((skipped[f] for f in self.uses if f in skipped), None)

    def not_recorded(self, tables: Mapping[str, pd.DataFrame]) -> str | None:
        """Why this builder's optional data stream is absent (its first unmet optional-stream
        need), or ``None``."""
        for need in self.needs:
            if need.optional_stream and need.unmet(tables) is not None:
                return need.unmet(tables)
        return None

    def settings_reason(self, inputs: PanelInputs) -> str | None:
        """Why the builder cannot run with these inputs' settings (one of ``settings`` not given)."""
        for name in self.settings:
            if getattr(inputs, name) is None:
                return f"no {name} settings given to build_panel (params.yaml {name}:)"
        return None

    def run(self, inputs: PanelInputs) -> Features:
        """The builder's features; raises when it returns other features than it declares."""
        out = self.build(inputs)
        if set(out) != set(self.produces):
            raise RuntimeError(
                f"builder {self.name} returned {sorted(out)}, declares {sorted(self.produces)}"
            )
        return out
