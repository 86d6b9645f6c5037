"""Signing in and up, the overview, one's own settings and access keys, the operator's
accounts, the audit trail."""
