"""The source's uploader: seals locally and uploads resumably (docs/protocol.md)."""
