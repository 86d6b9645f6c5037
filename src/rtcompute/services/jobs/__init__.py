"""Streaming SQL jobs: drafts and revisions, the SQL check, the isolation rules (what a job
may read and write), the lifecycle (publish, start, stop), runs, and what a job did."""
