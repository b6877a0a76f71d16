"""The offline workstation: vault, verification, media analysis, redaction, export.

Nothing here talks to the network or imports the server.
"""
