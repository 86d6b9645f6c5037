"""A project's jobs: folders and the job list, the editor, revisions, resources, the online
page, the SQL check."""
