"""The management console: orders and payments, purchase, projects, exclusive clusters (and
their wizard), networks, buckets."""
