"""rtcompute: a self-hostable realtime compute platform (managed Apache Flink)."""

__version__ = "0.1.0"
