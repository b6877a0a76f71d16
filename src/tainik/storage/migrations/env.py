"""For ``alembic -n server revision --autogenerate`` only (CONTRIBUTING.md); never at run time."""

from alembic import context

from tainik.migrating import run_env
from tainik.storage import newsroom_schema, schema
from tainik.storage.migrations import HISTORY

assert newsroom_schema.users is not None  # its tables are on schema.metadata
run_env(context, HISTORY, schema.metadata)
