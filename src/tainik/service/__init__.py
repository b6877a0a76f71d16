"""Service functions: each owns its transaction; web handlers and the CLI call them."""
