"""The console's pages, by the same areas as `services/` (kernel, iam, capacity, engines,
jobs); each module has a `router` whose routes all declare an operation
(`domain/operations.py`) or say they are public."""
