"""Tainik: a secure whistleblowing and evidence system."""

__version__ = "0.1.0"
