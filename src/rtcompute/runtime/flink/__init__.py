"""Per-job Flink clusters: the launcher (cluster.py) and the REST client (rest.py)."""
