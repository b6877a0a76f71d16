"""The evidence vault: verified originals stored once, threads by source, a signed custody log.

See docs/workstation.md for the layout on disk, the custody record format and the rules
``tainik vault verify`` applies. One module per concept:

- :mod:`.layout`: the files and folders of a vault.
- :mod:`.canonical`: the canonical JSON that custody records are written in.
- :mod:`.custody`: custody records, their signatures and the hash chain.
- :mod:`.catalogue`: the SQLite catalogue (SQLAlchemy Core).
- :mod:`.keyfile`: the vault's passphrase-protected Ed25519 key.
- :mod:`.vault`: opening a vault, the writer lock, appending records.
- :mod:`.objects`: the content-addressed, read-only store of originals.
- :mod:`.pulled`: what ``tainik pull`` leaves on disk, as import reads it.
- :mod:`.importer`: opening, verifying and storing sealed files.
- :mod:`.verify`: checking chain, signatures, key and every stored file.
- :mod:`.items`: finding items, sources and threads.
- :mod:`.media`, :mod:`.scrub`, :mod:`.perceptual`, :mod:`.duplicates`, :mod:`.export`,
  :mod:`.thumbnails`, :mod:`.show`: looking at, cleaning, comparing and handing out files.
"""
