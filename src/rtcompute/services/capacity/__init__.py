"""What a tenant buys and places: machine types, orders and billing, zones, networks,
buckets, shared projects, exclusive clusters and their nodes."""
