"""The REST API under /api/v1: routes and schemas per resource, errors mapped in app.py."""
