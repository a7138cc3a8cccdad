"""The engine tests score the trained squad of the scoring tests (fixture ``trained``)."""

from tests.scoring.conftest import trained  # noqa: F401 - pytest finds fixtures by name in conftest
