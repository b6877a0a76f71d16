"""Publication with a verifiable provenance record (docs/redaction.md, "Provenance").

A redacted file is signed with a C2PA manifest by a certificate from the organisation's own
local certificate authority (:mod:`.ca`). The manifest records what was done and names the
original only by its SHA-256 (:mod:`.manifest`); a signed sidecar (:mod:`.sidecar`) carries the
hashes, including one of every byte of the published file. :mod:`.verify` checks both.
"""
