"""The server side of `rtc`: `rtc up` and `rtc db`, which run next to the database."""
