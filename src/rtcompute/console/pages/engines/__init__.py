"""Engine versions: the catalog, and the versions of a cluster and of the shared pool."""
