"""The source interface: works entirely without JavaScript."""
