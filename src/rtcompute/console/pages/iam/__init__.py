"""RAM: users, groups, policies and their versions, roles, attachments, the service role."""
