"""What the local cloud keeps: its home directory, the durable state (SQLite), the in-memory
registry of what is deployed, function logs, metrics and the content-addressed artifacts."""
