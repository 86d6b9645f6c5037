"""RAM (the guide's access control): users, groups, policies, roles, attachments, the
decisions every route asks for (`authz`), and the service role of projects and clusters."""
