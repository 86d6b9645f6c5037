"""Flink engine versions: the catalog, the versions installed on each cluster and on the
shared pool, and the copies the engine reconciler makes."""
