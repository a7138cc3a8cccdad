"""Pseudonymisation of athlete identifiers with a keyed hash (HMAC-SHA256).

An alias is ``"ATH-"`` followed by the first :data:`ALIAS_HEX_CHARS` upper-case hex digits of
``HMAC-SHA256(key, athlete_id)``. The same key always gives the same alias for the same id, so
aliases are stable from week to week; without the key the alias cannot be recomputed from a
guessed name or id list. The key is never stored in the repository: it comes from the
environment (``SPRINTLAB_PSEUDONYM_KEY``) or from a file whose path is in
``SPRINTLAB_PSEUDONYM_KEY_FILE``.

Alias length: 8 hex digits (32 bits) keep the birthday-collision chance for a 10,000-athlete
register near 1%, and for a squad of 50 below one in a million. Two ids that collide inside one
call are never merged silently: :func:`pseudonymise_ids` raises instead.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, overload

import pandas as pd

KEY_ENV = "SPRINTLAB_PSEUDONYM_KEY"
KEY_FILE_ENV = "SPRINTLAB_PSEUDONYM_KEY_FILE"
ALIAS_PREFIX = "ATH-"
ALIAS_HEX_CHARS = 8
MIN_KEY_BYTES = 16
ALIAS_PATTERN = re.compile(rf"^{ALIAS_PREFIX}[0-9A-F]{{{ALIAS_HEX_CHARS}}}$")

__all__ = [
    "ALIAS_PATTERN",
    "KEY_ENV",
    "KEY_FILE_ENV",
    "PseudonymKeyError",
    "is_alias",
    "load_pseudonym_key",
    "pseudonymise_frame",
    "pseudonymise_ids",
]


class PseudonymKeyError(RuntimeError):
    """No usable pseudonymisation key was given."""


def _check_key(key: bytes, source: str) -> bytes:
    if not isinstance(key, bytes | bytearray):
        raise TypeError(f"pseudonym key from {source} must be bytes, got {type(key).__name__}")
    if len(key) < MIN_KEY_BYTES:
        raise PseudonymKeyError(
            f"pseudonym key from {source} is {len(key)} bytes; use at least {MIN_KEY_BYTES} random bytes "
            f"(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)"
        )
    return bytes(key)


@overload
def load_pseudonym_key(required: Literal[True] = True) -> bytes: ...


@overload
def load_pseudonym_key(required: bool) -> bytes | None: ...


def load_pseudonym_key(required: bool = True) -> bytes | None:
    """The key from ``$SPRINTLAB_PSEUDONYM_KEY`` (UTF-8 text) or the file named in
    ``$SPRINTLAB_PSEUDONYM_KEY_FILE`` (raw bytes, trailing newline stripped).

    The variable wins when both are set. Returns ``None`` when neither is set and ``required``
    is false; raises :class:`PseudonymKeyError` when neither is set and ``required`` is true,
    when the file is missing or empty, or when the key is shorter than 16 bytes.
    """
    text = os.environ.get(KEY_ENV)
    if text:
        return _check_key(text.encode("utf-8"), f"${KEY_ENV}")
    path = os.environ.get(KEY_FILE_ENV)
    if path:
        p = Path(path).expanduser()
        try:
            raw = p.read_bytes()
        except OSError as exc:
            raise PseudonymKeyError(
                f"cannot read pseudonym key file ${KEY_FILE_ENV}={path!s}: {exc}"
            ) from exc
        raw = raw.rstrip(b"\r\n")
        if not raw:
            raise PseudonymKeyError(f"pseudonym key file ${KEY_FILE_ENV}={path!s} is empty")
        return _check_key(raw, f"${KEY_FILE_ENV}")
    if required:
        raise PseudonymKeyError(
            "pseudonymisation needs a secret key: set the environment variable "
            f"{KEY_ENV} to the key, or {KEY_FILE_ENV} to the path of a file holding it. "
            "Keep the key out of the repository; the same key must be used every week for stable aliases."
        )
    return None


def _alias(key: bytes, athlete_id: str) -> str:
    digest = hmac.new(key, athlete_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return ALIAS_PREFIX + digest[:ALIAS_HEX_CHARS].upper()


def is_alias(value: object) -> bool:
    """True when ``value`` already looks like an alias made by this module."""
    return isinstance(value, str) and ALIAS_PATTERN.match(value) is not None


def pseudonymise_ids(ids: Iterable[str], key: bytes | None = None) -> dict[str, str]:
    """Map each distinct id (as ``str``) to its stable alias, e.g. ``{"jane.doe": "ATH-7F3A2C91"}``.

    ``key=None`` loads the key with :func:`load_pseudonym_key` (required). Raises ``ValueError``
    if two different ids get the same alias (never merges athletes silently).
    """
    k = load_pseudonym_key(required=True) if key is None else _check_key(key, "the key argument")
    mapping: dict[str, str] = {}
    seen: dict[str, str] = {}
    for raw in ids:
        athlete_id = str(raw)
        if athlete_id in mapping:
            continue
        alias = _alias(k, athlete_id)
        if alias in seen:
            raise ValueError(
                f"alias collision: two athlete ids map to {alias}; widen ALIAS_HEX_CHARS or change the key"
            )
        seen[alias] = athlete_id
        mapping[athlete_id] = alias
    return mapping


def pseudonymise_frame(
    df: pd.DataFrame, column: str = "athlete_id", key: bytes | None = None
) -> pd.DataFrame:
    """A copy of ``df`` with ``column`` replaced by aliases (missing values stay missing)."""
    if column not in df.columns:
        raise KeyError(f"column {column!r} not in frame (columns: {list(df.columns)})")
    out = df.copy()
    present = out[column].notna()
    mapping = pseudonymise_ids(out.loc[present, column].astype(str), key=key)
    out[column] = out[column].astype(object)
    out.loc[present, column] = out.loc[present, column].astype(str).map(mapping)
    return out
