"""The `rtc` client commands: they talk to the API through `rtcompute.client` only."""
