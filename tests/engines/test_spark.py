"""The Spark engine gives the local engine's scores row for row (Spark local mode)."""

from __future__ import annotations

import pandas as pd
import pytest

from sprintlab.engines.spark import spark_available

pytestmark = pytest.mark.spark


@pytest.mark.skipif(spark_available() is not None, reason=f"Spark engine not testable: {spark_available()}")
def test_spark_engine_equals_local_engine(trained, tmp_path):
    from sprintlab.engines.spark import stop_session
    from sprintlab.scoring import score

    p = trained["params"]
    local = score(trained["raw"], tmp_path / "local", p, report=False)
    try:
        spark = score(trained["raw"], tmp_path / "spark", p, report=False, engine="spark", master="local[2]")
    finally:
        stop_session()
    pd.testing.assert_frame_equal(local.scores, spark.scores)
    pd.testing.assert_frame_equal(local.drift, spark.drift)
