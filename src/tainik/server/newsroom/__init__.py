"""The newsroom interface: staff pages (no JavaScript) and the workstation's JSON API."""
