"""Metadata store: SQLAlchemy tables, one data-access module per resource, migrations.

Data-access functions take `session` keyword-only and never commit: the service or the
request scope owns the transaction.
"""
