"""Writing and reading sealed files (docs/format.md) on a local filesystem."""
