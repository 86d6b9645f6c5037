"""Use cases: authorize, validate, own the transaction, write desired state."""
