"""Node providers: where a cluster's nodes and processes live (local; later SSH, Kubernetes)."""
