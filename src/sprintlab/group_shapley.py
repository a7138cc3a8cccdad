"""Exact group (family) Shapley values: factor families as the players, every coalition enumerated.

One definition for the model's and the simulator truth's family attributions, so the two can be
compared directly. For a value function ``f`` (a model's log-odds margin, or the simulator's expected
change), a row ``x`` and a reference set ``R`` (e.g. the training-period units, documented by the
caller), the value of a coalition ``S`` of families is the interventional expectation

    v(S) = mean_{r in R} f(x_S, r_{-S})

(the features of the families in ``S`` taken from ``x``, the others from the reference row), and the
family ``i``'s Shapley value is

    phi_i = sum_{S not containing i} |S|! (k - |S| - 1)! / k! * (v(S + i) - v(S)).

Additivity (efficiency): ``sum_i phi_i = f(x) - mean_r f(r)``. With ``k <= 7`` families there are at
most 128 coalitions, so the values are exact, not sampled (Shapley 1953; interventional "baseline"
Shapley as in Sundararajan & Najmi 2020, "The many Shapley values for model explanation", ICML).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import combinations
from math import factorial

import numpy as np
import pandas as pd

MAX_GROUPS = 7  # 2^7 = 128 coalitions: exact enumeration stays cheap
ROWS_PER_CHUNK = 200_000  # rows x reference rows evaluated at once (bounds memory)

ValueFunction = Callable[[pd.DataFrame], np.ndarray]


def shapley_weight(coalition_size: int, n_players: int) -> float:
    """``|S|! (k - |S| - 1)! / k!``: the weight of adding one player to a coalition of ``|S|``."""
    s, k = coalition_size, n_players
    return factorial(s) * factorial(k - s - 1) / factorial(k)


def _coalitions(n_players: int) -> list[tuple[int, ...]]:
    return [c for size in range(n_players + 1) for c in combinations(range(n_players), size)]


def _check_groups(groups: Mapping[str, Sequence[str]], columns: Sequence[str]) -> None:
    if not 1 <= len(groups) <= MAX_GROUPS:
        raise ValueError(f"group Shapley needs 1 to {MAX_GROUPS} groups, got {len(groups)}")
    members = [c for cols in groups.values() for c in cols]
    if len(members) != len(set(members)):
        raise ValueError("a feature belongs to more than one group")
    missing = sorted(set(columns) - set(members))
    if missing:
        raise ValueError(f"features in no group: {missing}")
    unknown = sorted(set(members) - set(columns))
    if unknown:
        raise ValueError(f"grouped features not among the columns: {unknown}")


def _coalition_values(
    value: ValueFunction, x: pd.DataFrame, reference: pd.DataFrame, masks: np.ndarray
) -> np.ndarray:
    """``v(S)`` for every row of ``x`` (rows) and every coalition (columns), averaged over ``reference``.

    The empty coalition (every row: ``mean_r f(r)``) and the full one (``f(x)``) need no
    (row, reference row) pairs: ``f`` is evaluated once per reference row and once per row. The
    other coalitions' pairs go to ``value`` together, at most :data:`ROWS_PER_CHUNK` at a time.
    The averages are taken over the same ``m`` values in the same order as pair by pair."""
    n, m = len(x), len(reference)
    xv = x.to_numpy(dtype=float)
    rv = reference[list(x.columns)].to_numpy(dtype=float)
    out = np.empty((n, len(masks)))
    if n == 0:
        return out
    frame = partial(pd.DataFrame, columns=x.columns)
    empty, full = ~masks.any(axis=1), masks.all(axis=1)
    out[:, empty] = np.asarray(value(frame(rv)), dtype=float).reshape(1, m).mean(axis=1)[:, None]
    fx = np.asarray(value(frame(xv)), dtype=float)
    out[:, full] = np.repeat(fx[:, None], m, axis=1).mean(axis=1)[:, None]
    mixed_masks = np.flatnonzero(~(empty | full))
    if mixed_masks.size == 0:
        return out
    rows_per_chunk = max(1, ROWS_PER_CHUNK // (m * mixed_masks.size))
    for start in range(0, n, rows_per_chunk):
        xs = xv[start : start + rows_per_chunk]
        # every (coalition, row, reference row): shape (n_coalitions * len(xs) * m, n_features)
        xr = np.repeat(xs, m, axis=0)
        rr = np.tile(rv, (len(xs), 1))
        mixed = np.where(masks[mixed_masks][:, None, :], xr[None], rr[None]).reshape(-1, xv.shape[1])
        f = np.asarray(value(frame(mixed)), dtype=float).reshape(mixed_masks.size, len(xs), m)
        out[start : start + len(xs), mixed_masks] = f.mean(axis=2).T
    return out


def group_shapley(
    value: ValueFunction,
    x: pd.DataFrame,
    reference: pd.DataFrame,
    groups: Mapping[str, Sequence[str]],
) -> pd.DataFrame:
    """Exact interventional Shapley values of each group of features, per row of ``x``.

    ``value`` maps a frame with ``x``'s columns to one number per row. Returns a frame indexed like
    ``x`` with one column per group (in ``groups`` order) plus ``reference_value`` (``mean_r f(r)``)
    and ``full_value`` (``f(x)``): the group columns sum to ``full_value - reference_value``.
    """
    _check_groups(groups, list(x.columns))
    if len(reference) == 0:
        raise ValueError("the reference set is empty")
    names = list(groups)
    k = len(names)
    in_group = np.array([[c in groups[g] for c in x.columns] for g in names])  # (k, n_features)
    coalitions = _coalitions(k)
    masks = np.array([in_group[list(c)].any(axis=0) for c in coalitions])
    v = _coalition_values(value, x, reference, masks)
    index = {c: j for j, c in enumerate(coalitions)}
    phi = np.zeros((len(x), k))
    for coalition, j in index.items():
        if len(coalition) == k:
            continue
        weight = shapley_weight(len(coalition), k)
        for i in set(range(k)) - set(coalition):
            with_i = tuple(sorted((*coalition, i)))
            phi[:, i] += weight * (v[:, index[with_i]] - v[:, j])
    out = pd.DataFrame(phi, columns=names, index=x.index)
    out["reference_value"] = v[:, index[()]]
    out["full_value"] = v[:, index[tuple(range(k))]]
    return out


TermMeans = Callable[[pd.DataFrame, pd.DataFrame, frozenset[str]], np.ndarray]


@dataclass(frozen=True)
class AdditiveMargin:
    """A value function written as ``intercept + slope * sum_t term_t(x)`` where term ``t`` reads only
    the features ``term_features[t]`` (a tree ensemble: one term per tree, the features it splits on;
    a linear model: one term per coefficient). ``term_values(frame)`` gives every term per row, shape
    ``(rows, terms)``. ``term_means(x, reference, features)``, when given, gives
    ``mean_r term_t(x_S, r_{-S})`` per row of ``x`` and term directly (``features``: the columns
    of ``x`` in ``S``), without forming the ``rows x reference rows`` pairs."""

    intercept: float
    slope: float
    term_features: tuple[frozenset[str], ...]
    term_values: Callable[[pd.DataFrame], np.ndarray]
    term_means: TermMeans | None = None


def additive_margin_of(model: object) -> AdditiveMargin | None:
    """``model.additive_margin()`` when the model has one (tree ensembles), else None."""
    method = getattr(model, "additive_margin", None)
    return method() if callable(method) else None


def _covering_coalitions(term_groups: Sequence[int], k: int) -> list[int]:
    """Coalitions (bit masks over ``k`` groups) such that every term's group set ``G`` meets them in
    every subset of ``G``: the empty and the full coalition (cheap: no row pairs) first, then greedily
    the coalition covering most missing (G, subset) patterns (ties: smallest mask)."""
    full = (1 << k) - 1
    needed = {(g, t) for g in set(term_groups) for t in range(1 << k) if t & g == t}
    chosen = [0, full]
    needed -= {(g, s & g) for g in set(term_groups) for s in chosen}
    while needed:
        gain = [sum((g, s & g) in needed for g in set(term_groups)) for s in range(1 << k)]
        best = int(np.argmax(gain))
        chosen.append(best)
        needed -= {(g, best & g) for g in set(term_groups)}
    return chosen


def _term_means(
    terms: AdditiveMargin, x: pd.DataFrame, reference: pd.DataFrame, mask: np.ndarray
) -> np.ndarray:
    """``mean_r term_t(x_S, r_{-S})`` per row and term for one coalition's feature ``mask``."""
    if terms.term_means is not None:
        features = frozenset(c for c, m in zip(x.columns, mask, strict=True) if m)
        return np.asarray(terms.term_means(x, reference[list(x.columns)], features), dtype=float)
    n, m = len(x), len(reference)
    xv = x.to_numpy(dtype=float)
    rv = reference[list(x.columns)].to_numpy(dtype=float)
    if not mask.any():
        ref_terms = terms.term_values(pd.DataFrame(rv, columns=x.columns))
        return np.repeat(ref_terms.mean(axis=0, keepdims=True), n, axis=0)
    if mask.all():
        return np.asarray(terms.term_values(x), dtype=float)
    out = np.empty((n, len(terms.term_features)))
    rows_per_chunk = max(1, ROWS_PER_CHUNK // m)
    for start in range(0, n, rows_per_chunk):
        xs = xv[start : start + rows_per_chunk]
        mixed = np.where(mask[None, :], np.repeat(xs, m, axis=0), np.tile(rv, (len(xs), 1)))
        values = terms.term_values(pd.DataFrame(mixed, columns=x.columns))
        out[start : start + len(xs)] = values.reshape(len(xs), m, -1).mean(axis=1)
    return out


def additive_group_shapley(
    terms: AdditiveMargin, x: pd.DataFrame, reference: pd.DataFrame, groups: Mapping[str, Sequence[str]]
) -> pd.DataFrame:
    """:func:`group_shapley` of an :class:`AdditiveMargin`, exactly, without all ``2^k`` coalitions.

    Shapley values add over a sum of games, and in term ``t``'s game the groups it does not read are
    null players; so each term needs ``v_t(T)`` only for the subsets ``T`` of its own groups ``G_t``,
    and any coalition ``S`` with ``S & G_t = T`` gives it. :func:`_covering_coalitions` picks such
    coalitions for every term at once (a tree with 3 splits reads at most 3 groups: ~12 of 64
    coalitions; stumps need only the empty and the full one). Same output as :func:`group_shapley`."""
    _check_groups(groups, list(x.columns))
    if len(reference) == 0:
        raise ValueError("the reference set is empty")
    names = list(groups)
    k = len(names)
    group_of = {c: i for i, g in enumerate(names) for c in groups[g]}
    term_groups = [sum(1 << i for i in {group_of[c] for c in f}) for f in terms.term_features]
    in_group = np.array([[c in groups[g] for c in x.columns] for g in names])
    chosen = _covering_coalitions(term_groups, k)
    coalition_features = {
        s: np.asarray(in_group[[i for i in range(k) if s >> i & 1]].any(axis=0)) for s in chosen
    }
    means = {s: _term_means(terms, x, reference, mask) for s, mask in coalition_features.items()}
    phi = np.zeros((len(x), k))
    for g in set(term_groups):
        cols = [t for t, tg in enumerate(term_groups) if tg == g]
        v = {
            t: means[next(s for s in chosen if s & g == t)][:, cols].sum(axis=1)
            for t in range(1 << k)
            if t & g == t
        }
        players = [i for i in range(k) if g >> i & 1]
        for i in players:
            for t in v:
                if not t >> i & 1:
                    phi[:, i] += shapley_weight(bin(t).count("1"), len(players)) * (v[t | 1 << i] - v[t])
    out = pd.DataFrame(terms.slope * phi, columns=names, index=x.index)
    out["reference_value"] = terms.intercept + terms.slope * means[0].sum(axis=1)
    out["full_value"] = terms.intercept + terms.slope * means[(1 << k) - 1].sum(axis=1)
    return out


def feature_families(features: Sequence[str]) -> dict[str, list[str]]:
    """The catalogue's factor families of ``features`` as Shapley groups (``FAMILIES`` order, only the
    families with at least one of the features)."""
    from sprintlab.domain import FAMILIES
    from sprintlab.features.catalogue import load_catalogue

    catalogue = load_catalogue()
    groups: dict[str, list[str]] = {fam: [] for fam in FAMILIES}
    for feature in features:
        groups[catalogue.family_of(feature)].append(feature)
    return {fam: cols for fam, cols in groups.items() if cols}


def family_shapley(
    value: ValueFunction, x: pd.DataFrame, reference: pd.DataFrame, terms: AdditiveMargin | None = None
) -> pd.DataFrame:
    """:func:`group_shapley` with the catalogue's factor families of ``x``'s columns as the groups;
    given ``value``'s additive terms (a tree ensemble's trees), :func:`additive_group_shapley`."""
    groups = feature_families(list(x.columns))
    if terms is not None:
        return additive_group_shapley(terms, x, reference, groups)
    return group_shapley(value, x, reference, groups)
