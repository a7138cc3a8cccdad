"""Engines of ``sprintlab score --engine``: ``local`` is plain pandas in :mod:`sprintlab.scoring`;
:mod:`sprintlab.engines.spark` runs the same feature code per athlete on Spark and scores with
``mlflow.pyfunc.spark_udf``."""
