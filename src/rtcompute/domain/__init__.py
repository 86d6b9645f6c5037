"""Pure rules: names, passwords, identities, resource names. No I/O in this package."""
