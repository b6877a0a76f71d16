"""For ``alembic -n vault revision --autogenerate`` only (CONTRIBUTING.md); never at run time."""

from alembic import context

from tainik.migrating import run_env
from tainik.workstation.vault import catalogue
from tainik.workstation.vault.migrations import HISTORY

run_env(context, HISTORY, catalogue.metadata)
