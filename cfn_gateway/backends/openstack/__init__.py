"""OpenStack drivers: the AWS <-> OpenStack mapping lives here.

- ``gnocchi_schema``: the archive policies and the resource type the metric driver uses.
- ``gnocchi_mapping``: CloudWatch identity <-> Gnocchi resources, metrics and measures (pure).
- ``gnocchi_reads``: which Gnocchi aggregates answer a GetMetricStatistics exactly (pure).
- ``gnocchi_api``: HTTP calls through gnocchiclient, backend failures -> AWS errors.
- ``gnocchi_setup``: idempotent creation of the schema (driver on first use, or an admin).
- ``gnocchi_listing``: ListMetrics pages and their NextTokens.
- ``gnocchi_metrics``: ``GnocchiMetricStore``, the ``MetricStore`` on Gnocchi.
"""
