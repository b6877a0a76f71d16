"""The ASGI server: the source interface and the newsroom interface, two listeners."""
