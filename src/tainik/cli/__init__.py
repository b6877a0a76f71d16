"""The ``tainik`` command line: one entry point, one sub-command module per part."""
