"""The newsroom's service functions: staff accounts, inbox, replies, downloads, audit log.

Each function authenticates the staff member's credential inside its own transaction (see
:func:`tainik.service.newsroom.auth.authenticate`), so the web pages and the JSON API share
one authorisation path.
"""
