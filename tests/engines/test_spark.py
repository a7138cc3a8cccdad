"""The Spark engine gives the local engine's scores row for row (Spark local mode)."""

from __future__ import annotations

import pandas as pd
import pytest

from sprintlab.engines.spark import spark_available

pytestmark = pytest.mark.spark


@pytest.mark.skipif(spark_available() is not None, reason=f"Spark engine not testable: {spark_available()}")
def test_spark_engine_equals_local_engine(trained, tmp_path, monkeypatch):
    """One executor core (the other runs the other test worker): one Python worker loads the models
    once instead of twice; two default partitions keep the row order across partitions under test
    (the athletes' shuffle uses ``SPRINTLAB_SPARK_PARTITIONS``, 4)."""
    from sprintlab.engines.spark import stop_session
    from sprintlab.scoring import score

    monkeypatch.setenv("PYSPARK_SUBMIT_ARGS", "--conf spark.default.parallelism=2 pyspark-shell")
    p = trained["params"]
    local = score(trained["raw"], tmp_path / "local", p, report=False)
    try:
        spark = score(trained["raw"], tmp_path / "spark", p, report=False, engine="spark", master="local[1]")
    finally:
        stop_session()
    pd.testing.assert_frame_equal(local.scores, spark.scores)
    pd.testing.assert_frame_equal(local.drift, spark.drift)
