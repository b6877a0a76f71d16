"""``tainik pull``: fetch sealed files from the newsroom API to a folder, resumably.

Runs on a networked machine and needs no private key: it moves ciphertext only. The folder it
fills is specified in docs/workstation.md, "The pulled folder"; ``vault import`` reads it.

- :mod:`.client`: the API over HTTP (httpx, optionally through SOCKS5), retries, Range.
- :mod:`.layout`: where each file goes, from values the server sends (never trusted as paths).
- :mod:`.sync`: listing, downloading what is missing, and writing the metadata.
"""
