"""API schemas: what clients send (`...Create`, `...Update`) and get back; not tables."""
