"""Words for table cells: fragments, not sentences, so lowercase (tests/test_wording.py lets
them be). Marked here, translated where they are shown."""

from __future__ import annotations

from tainik.core.errors import N_
from tainik.core.staff_account import AccountState

# How the users page and `tainik users list` name each state of an account.
ACCOUNT_STATES = {
    AccountState.PENDING: N_("waiting for first login"),
    AccountState.ACTIVE: N_("active"),
    AccountState.DEACTIVATED: N_("deactivated"),
    AccountState.DEACTIVATED_PENDING: N_("deactivated"),
}
