"""Persistence: the database (SQLAlchemy; SQLite by default) and the blob store."""
