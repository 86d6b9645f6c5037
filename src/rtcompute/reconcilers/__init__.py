"""Background loops: the only code that acts on the world. They run under one runner."""
