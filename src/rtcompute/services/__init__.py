"""Use cases: authorize, validate, own the transaction, write desired state.

By area, each importing only the areas before it (`.importlinter`, "The service areas"):

- `kernel`: the platform object, principals and sign-in, sessions, access keys, accounts,
  the audit trail, alerts and notification, leadership, health;
- `iam`: RAM users, groups, policies, roles and their attachments, the decisions (`authz`),
  the service role;
- `capacity`: machine types, orders and billing, zones, networks, buckets, projects,
  exclusive clusters and their nodes;
- `engines`: the engine catalog, the versions installed on clusters and the pool, copies;
- `jobs`: drafts and revisions (`drafts`), the SQL check (`sql`), the isolation rules
  (`paths`, `resources`), the lifecycle (`lifecycle`: publish, start, stop), runs
  (`runs`), what a job did (`records`, `observe`), job alerts.
"""
