"""The platform, who calls (principals, sign-in, sessions, access keys, accounts), the audit
trail, alerts and notification, leadership and health: what every other area stands on."""
