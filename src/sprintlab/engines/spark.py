"""The Spark engine of ``sprintlab score --engine spark``.

Features: every contract table becomes a Spark DataFrame; all of them are unioned into one long
frame ``(athlete_id, _table, _row)`` (each record as JSON) and one
``groupBy("athlete_id").applyInPandas`` rebuilds each athlete's tables and runs
:func:`athlete_panel` - the unchanged training
function :func:`sprintlab.features.panel.build_panel` on that one athlete - on the executors.
Every panel feature of an athlete depends on that athlete's records only, so the per-athlete
panel equals the squad panel row for row (``tests/engines/test_spark.py`` checks it).

Scoring: ``mlflow.pyfunc.spark_udf`` on the registered model version (the champion unless
``--model-version``), which was logged with ``pyfunc_predict_fn="predict_proba"``.

Pointing it at a cluster: ``--master spark://host:7077`` (or ``yarn``, ``k8s://...``); see
``docs/scaling.md``. :func:`spark_week_panel_from_parquet` reads the validated tables straight from
(object-store) Parquet so that they never pass through the driver.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkFrame
    from pyspark.sql import SparkSession
    from pyspark.sql.types import StructType

DEFAULT_MASTER = "local[2]"
_SESSION: SparkSession | None = None


def spark_available() -> str | None:
    """``None`` when pyspark and Java are usable, else the reason they are not."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'sprintlab[spark]')"
    import shutil

    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        return "Java is not installed (Spark needs a JRE, e.g. Debian's default-jre-headless)"
    return None


def get_session(master: str | None = None, app_name: str = "sprintlab-score") -> SparkSession:
    """A (cached) SparkSession; ``master`` defaults to ``$SPARK_MASTER`` or ``local[2]``."""
    global _SESSION
    from pyspark.sql import SparkSession

    if _SESSION is not None and _SESSION.sparkContext._jsc is not None:
        return _SESSION
    master = master or os.environ.get("SPARK_MASTER") or DEFAULT_MASTER
    # executors must run this interpreter (same pandas, sprintlab, LightGBM) unless told otherwise
    import sys

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    _SESSION = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.shuffle.partitions", os.environ.get("SPRINTLAB_SPARK_PARTITIONS", "4"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    _SESSION.sparkContext.setLogLevel("ERROR")
    return _SESSION


def stop_session() -> None:
    global _SESSION
    if _SESSION is not None:
        _SESSION.stop()
        _SESSION = None


def athlete_panel(
    tables: dict[str, pd.DataFrame], end: pd.Timestamp, weeks_back: int, wellness_baseline_days: int
) -> pd.DataFrame:
    """The training feature code on one athlete's tables: the last ``weeks_back`` weeks up to ``end``."""
    from sprintlab.features.panel import build_panel

    panel = build_panel(tables, end=end, wellness_baseline_days=wellness_baseline_days).panel
    return panel[panel["week_end"] > end - pd.Timedelta(weeks=weeks_back)].reset_index(drop=True)


def _to_spark_frame(spark: SparkSession, df: pd.DataFrame) -> SparkFrame:
    """pandas -> Spark with dates as timestamps (UTC, so no day shifts)."""
    return spark.createDataFrame(df)


def _long(sdfs: dict[str, SparkFrame]) -> SparkFrame:
    """All tables as one long frame (athlete_id, _table, _row): each record as JSON text, so that a
    single ``groupBy("athlete_id")`` brings every record of an athlete together (one shuffle)."""
    from functools import reduce

    from pyspark.sql import functions as F

    parts = [
        sdf.select(
            F.col("athlete_id").cast("string").alias("athlete_id"),
            F.lit(name).alias("_table"),
            F.to_json(F.struct(*sdf.columns)).alias("_row"),
        )
        for name, sdf in sdfs.items()
    ]
    return reduce(lambda a, b: a.unionByName(b), parts)


def _panel_schema(sample: pd.DataFrame) -> StructType:
    """Spark schema of the panel (from a pandas sample panel built on the driver)."""
    from pyspark.sql import types as T

    fields = []
    for c, dt in sample.dtypes.items():
        t: T.DataType
        if c == "athlete_id":
            t = T.StringType()
        elif pd.api.types.is_datetime64_any_dtype(dt):
            t = T.TimestampType()
        elif pd.api.types.is_bool_dtype(dt):
            t = T.BooleanType()
        elif pd.api.types.is_integer_dtype(dt):
            t = T.LongType()
        else:
            t = T.DoubleType()
        fields.append(T.StructField(c, t, True))
    return T.StructType(fields)


def _restore(rows: list[str], columns: list[str], dtypes: dict[str, str]) -> pd.DataFrame:
    """JSON records of one table -> the pandas frame the validator would have produced."""
    import json

    df = pd.DataFrame([json.loads(r) for r in rows], columns=columns)
    for c, dt in dtypes.items():
        if dt.startswith("datetime64"):
            df[c] = pd.to_datetime(df[c], utc=True, format="ISO8601").dt.tz_convert(None).astype(dt)
        elif dt == "object":
            df[c] = df[c].astype(object).where(df[c].notna(), None)
        else:
            df[c] = df[c].astype(dt)
    return df


def week_panel_from_spark(
    spark: SparkSession,
    sdfs: dict[str, SparkFrame],
    end: pd.Timestamp,
    *,
    weeks_back: int,
    wellness_baseline_days: int,
    dtypes: dict[str, dict[str, str]],
    sample_panel: pd.DataFrame,
) -> pd.DataFrame:
    """Run :func:`athlete_panel` per athlete through ``groupBy("athlete_id").applyInPandas``."""
    names = list(sdfs)
    columns = {n: list(sdfs[n].columns) for n in names}
    schema = _panel_schema(sample_panel)
    out_cols = list(sample_panel.columns)
    out_types = {c: str(t) for c, t in sample_panel.dtypes.items()}

    def per_athlete(pdf: pd.DataFrame) -> pd.DataFrame:
        by_table = {n: g["_row"].tolist() for n, g in pdf.groupby("_table", sort=False)}
        tables = {n: _restore(by_table.get(n, []), columns[n], dtypes[n]) for n in names}
        # an athlete without rows in a table gets the table empty, as in the squad run (e.g. no
        # injuries -> "no previous injury", not "not measured")
        if tables["athletes"].empty:  # records of an athlete missing from the register: no panel rows
            return pd.DataFrame({c: pd.Series(dtype=out_types[c]) for c in out_cols})
        return athlete_panel(tables, end, weeks_back, wellness_baseline_days).reindex(columns=out_cols)

    res: pd.DataFrame = _long(sdfs).groupBy("athlete_id").applyInPandas(per_athlete, schema=schema).toPandas()
    for c, t in out_types.items():
        if t.startswith("datetime64"):
            res[c] = pd.to_datetime(res[c]).astype(t)
        elif t == "bool":
            res[c] = res[c].astype(bool)
    return res.sort_values(["athlete_id", "week_end"]).reset_index(drop=True)[out_cols]


def spark_week_panel(
    tables: dict[str, pd.DataFrame],
    end: pd.Timestamp,
    *,
    weeks_back: int = 1,
    master: str | None = None,
    wellness_baseline_days: int = 56,
) -> pd.DataFrame:
    """The panel rows of the last ``weeks_back`` weeks up to ``end``, built per athlete on Spark
    from in-memory validated tables (the CLI path)."""
    spark = get_session(master)
    tables = {n: t for n, t in tables.items() if len(t) or n == "athletes"}
    dtypes = {n: {c: str(t) for c, t in df.dtypes.items()} for n, df in tables.items()}
    sample = _sample_panel(tables, end, weeks_back, wellness_baseline_days)
    sdfs = {n: _to_spark_frame(spark, df) for n, df in tables.items()}
    return week_panel_from_spark(
        spark,
        sdfs,
        end,
        weeks_back=weeks_back,
        wellness_baseline_days=wellness_baseline_days,
        dtypes=dtypes,
        sample_panel=sample,
    )


def spark_week_panel_from_parquet(
    folder: str,
    end: pd.Timestamp,
    *,
    weeks_back: int = 1,
    master: str | None = None,
    wellness_baseline_days: int = 56,
) -> pd.DataFrame:
    """As :func:`spark_week_panel`, reading ``<folder>/<table>.parquet`` (validated tables, e.g. on
    ``s3a://`` or ``abfss://``) with Spark, so the data never pass through the driver."""
    from pyspark.sql import functions as F

    from sprintlab.contract.tables import TABLES

    spark = get_session(master)
    sdfs = {}
    for name in TABLES:
        try:
            sdf = spark.read.parquet(f"{folder.rstrip('/')}/{name}.parquet")
        except Exception:  # noqa: BLE001 - optional tables may be absent
            continue
        col = "onset_date" if name == "injuries" else "date"
        if col in sdf.columns:
            sdf = sdf.where(F.col(col) <= F.lit(end.to_pydatetime()))
        sdfs[name] = sdf
    # a small sample (first athlete) fixes the output schema and the pandas dtypes of every table
    first_row: pd.DataFrame = sdfs["athletes"].orderBy("athlete_id").limit(1).toPandas()
    first = first_row["athlete_id"].tolist()
    small: dict[str, pd.DataFrame] = {
        n: s.where(F.col("athlete_id").isin(first)).toPandas() for n, s in sdfs.items()
    }
    dtypes = {n: {c: str(t) for c, t in df.dtypes.items()} for n, df in small.items()}
    sample = _sample_panel(
        {n: t for n, t in small.items() if len(t) or n == "athletes"}, end, weeks_back, wellness_baseline_days
    )
    return week_panel_from_spark(
        spark,
        sdfs,
        end,
        weeks_back=weeks_back,
        wellness_baseline_days=wellness_baseline_days,
        dtypes=dtypes,
        sample_panel=sample,
    )


def _sample_panel(
    tables: dict[str, pd.DataFrame], end: pd.Timestamp, weeks_back: int, wellness_baseline_days: int
) -> pd.DataFrame:
    """The panel of the first athlete: fixes the column set and dtypes of the Spark output."""
    first = sorted(tables["athletes"]["athlete_id"].astype(str))[:1]
    one = {n: t[t["athlete_id"].astype(str).isin(first)] for n, t in tables.items()}
    return athlete_panel(one, end, weeks_back, wellness_baseline_days)


def spark_predict(rows: pd.DataFrame, models: dict, *, master: str | None = None) -> dict[str, np.ndarray]:
    """Positive-class probability per row and model via ``mlflow.pyfunc.spark_udf`` (rows keep
    their order: an explicit row index travels with the data)."""
    import mlflow
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from sprintlab.models.datasets import feature_matrix
    from sprintlab.tracking import _client

    _client()
    spark = get_session(master)
    X = rows[["athlete_id"]].assign(_row=np.arange(len(rows), dtype=np.int64))
    feats = {t: list(cm.model.feature_names_in_) for t, cm in models.items()}
    for f in sorted({f for fs in feats.values() for f in fs}):
        X[f] = feature_matrix(rows, [f])[f]
    sdf = spark.createDataFrame(X.drop(columns=["athlete_id"]))
    cols = [F.col("_row")]
    for target, cm in models.items():
        udf = mlflow.pyfunc.spark_udf(
            spark, cm.uri, result_type=T.ArrayType(T.DoubleType()), env_manager="local"
        )
        cols.append(udf(F.struct(*[F.col(f) for f in feats[target]])).alias(target))
    pred: pd.DataFrame = sdf.select(*cols).toPandas()
    pred = pred.sort_values("_row")
    out = {t: np.array([p[1] for p in pred[t]], dtype=float) for t in models}
    return out
