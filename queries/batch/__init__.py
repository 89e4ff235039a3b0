"""The national batch (docs/batch.md): every restriction, score and beneficial owner at a date,
read from a Parquet snapshot (:mod:`loaders.parquet`) and written as Parquet tables.

Two engines give the same tables: :mod:`queries.batch.local`, the Python rule engine over the
snapshot loaded into an embedded store (the reference), and :mod:`queries.batch.spark_job`, the
same rules as Spark joins for a cluster (``pip install creditnet[spark]``). The table schemas are
in :mod:`queries.batch.tables`.
"""
