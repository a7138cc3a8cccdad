"""Keyed pseudonymisation of athlete ids."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sprintlab.privacy import (
    KEY_ENV,
    KEY_FILE_ENV,
    PseudonymKeyError,
    is_alias,
    load_pseudonym_key,
    pseudonymise_frame,
    pseudonymise_ids,
)

KEY_A = b"a-test-key-that-is-long-enough-32b"
KEY_B = b"another-test-key-long-enough-32bb"


@pytest.fixture(autouse=True)
def _no_key_env(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)


def test_alias_format_and_stability():
    first = pseudonymise_ids(["jane.doe", "sam.k"], key=KEY_A)
    second = pseudonymise_ids(["sam.k", "jane.doe", "jane.doe"], key=KEY_A)
    assert first == second
    assert all(is_alias(a) for a in first.values())
    assert first["jane.doe"] != first["sam.k"]


def test_different_key_gives_different_aliases():
    a = pseudonymise_ids(["jane.doe", "sam.k"], key=KEY_A)
    b = pseudonymise_ids(["jane.doe", "sam.k"], key=KEY_B)
    assert a["jane.doe"] != b["jane.doe"] and a["sam.k"] != b["sam.k"]


def test_no_collisions_on_10000_ids():
    ids = [f"athlete-{i:05d}" for i in range(10_000)]
    mapping = pseudonymise_ids(ids, key=KEY_A)
    assert len(mapping) == 10_000
    assert len(set(mapping.values())) == 10_000


def test_missing_key_is_a_clear_error():
    with pytest.raises(PseudonymKeyError, match=f"{KEY_ENV}.*{KEY_FILE_ENV}"):
        pseudonymise_ids(["jane.doe"])
    assert load_pseudonym_key(required=False) is None


def test_short_key_rejected():
    with pytest.raises(PseudonymKeyError, match="at least 16"):
        pseudonymise_ids(["jane.doe"], key=b"short")


def test_key_from_env_and_file(monkeypatch, tmp_path):
    monkeypatch.setenv(KEY_ENV, KEY_A.decode())
    from_env = pseudonymise_ids(["jane.doe"])
    assert from_env == pseudonymise_ids(["jane.doe"], key=KEY_A)
    monkeypatch.delenv(KEY_ENV)
    key_file = tmp_path / "key"
    key_file.write_bytes(KEY_A + b"\n")
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    assert load_pseudonym_key() == KEY_A
    assert pseudonymise_ids(["jane.doe"]) == from_env
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "missing"))
    with pytest.raises(PseudonymKeyError, match="cannot read"):
        load_pseudonym_key()
    key_file.write_bytes(b"\n")
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    with pytest.raises(PseudonymKeyError, match="empty"):
        load_pseudonym_key()


def test_pseudonymise_frame_keeps_missing_and_other_columns():
    df = pd.DataFrame({"athlete_id": ["jane.doe", None, "sam.k", "jane.doe"], "x": [1.0, 2.0, np.nan, 4.0]})
    out = pseudonymise_frame(df, key=KEY_A)
    assert df["athlete_id"].iloc[0] == "jane.doe"  # input untouched
    assert out["athlete_id"].iloc[0] == out["athlete_id"].iloc[3]
    assert pd.isna(out["athlete_id"].iloc[1])
    assert is_alias(out["athlete_id"].iloc[2])
    pd.testing.assert_series_equal(out["x"], df["x"])
    with pytest.raises(KeyError):
        pseudonymise_frame(df, column="nope", key=KEY_A)
