"""The web console: server-rendered Jinja2 pages with htmx, translated (en, zh_CN)."""
