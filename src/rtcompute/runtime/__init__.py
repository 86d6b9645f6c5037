"""Adapters that touch the world (processes, engines, Flink REST); reconcilers alone use them."""
