"""Fixtures for the vault tests: the organisation's keys and a fresh vault."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tainik import crypto
from tainik.workstation.vault.vault import Vault
from workstation.vault.support import new_vault


@pytest.fixture(scope="session")
def org_identity() -> crypto.Identity:
    """The organisation's identity for the session."""
    return crypto.Identity.generate()


@pytest.fixture(scope="session")
def org_key_file(tmp_path_factory: pytest.TempPathFactory, org_identity: crypto.Identity) -> Path:
    """An unprotected identity file holding ``org_identity``."""
    path = tmp_path_factory.mktemp("org") / "org.key"
    path.write_text(crypto.identity_file_text(org_identity), encoding="utf-8")
    return path


@pytest.fixture
def vault(tmp_path: Path, org_identity: crypto.Identity) -> Iterator[Vault]:
    """A new, empty vault with an unprotected key."""
    made = new_vault(tmp_path / "vault", org_identity.recipient)
    yield made
    made.close()
