"""tainik.toml: every number is declared once (tainik.config.SETTINGS), and the writer, the
parser and the editor all follow the declaration."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from hypothesis import given
from hypothesis import strategies as st

from tainik import crypto
from tainik.config import (
    CONFIG_NAME,
    KDF_SETTINGS,
    SETTINGS,
    InstanceConfig,
    Setting,
    init_instance,
    load_config,
    set_key,
    shown_url,
)
from tainik.core.errors import UsageError

RECIPIENT = crypto.Identity.generate().recipient


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new instance with the default KDF cost (written, never derived with here)."""
    folder = tmp_path_factory.mktemp("config") / "instance"
    init_instance(folder, [RECIPIENT])
    return folder


def configured(config: InstanceConfig, setting: Setting) -> Any:
    """The value the configuration holds for ``setting``."""
    if setting in KDF_SETTINGS:
        return getattr(config.kdf, setting.key.removeprefix("kdf_"))
    if setting.section == "connections":
        return getattr(config.connections, setting.key)
    if setting.section == "tor":
        return getattr(config.tor, setting.key)
    return getattr(config, setting.key)


def in_config(setting: Setting, value: float) -> Any:
    return None if setting.zero_is_none and value == 0 else value


def with_value(data_dir: Path, tmp_path: Path, setting: Setting, value: float) -> Path:
    """A copy of the instance's settings with ``setting`` set to ``value``."""
    text = (data_dir / CONFIG_NAME).read_text(encoding="utf-8")
    folder = tmp_path / "copy"
    folder.mkdir(exist_ok=True)
    (folder / CONFIG_NAME).write_text(set_key(text, setting.section, setting.key, value))
    return folder


def outside(setting: Setting) -> list[float]:
    """The nearest values just below and just above the bounds."""
    if isinstance(setting.default, int):
        return [setting.low - 1, setting.high + 1]
    return [math.nextafter(setting.low, -math.inf), math.nextafter(setting.high, math.inf)]


def ids(setting: Setting) -> str:
    return f"{setting.section}.{setting.key}"


def test_the_declarations_cover_every_number_of_the_configuration() -> None:
    keys = {s.key for s in SETTINGS}
    assert len(keys) == len(SETTINGS)
    numbers = {"max_upload_bytes", "session_idle_minutes", "unfinished_upload_hours"}
    numbers |= {"min_free_bytes", "max_unfinished_bytes", "reserve_bytes"}
    assert numbers <= keys
    for setting in SETTINGS:
        assert setting.allows(setting.default), setting
        assert type(setting.low) is type(setting.default) is type(setting.high), setting


@pytest.mark.parametrize("setting", SETTINGS, ids=ids)
def test_a_new_file_holds_each_setting_at_its_default_with_its_note(
    data_dir: Path, setting: Setting
) -> None:
    text = (data_dir / CONFIG_NAME).read_text(encoding="utf-8")
    assert tomllib.loads(text)[setting.section][setting.key] == setting.default
    lines = text.splitlines()
    at = lines.index(f"{setting.key} = {tomlkit.item(setting.default).as_string()}")
    notes = [f"# {line}" for line in setting.note.splitlines()]
    assert lines[at - len(notes) : at] == notes
    assert configured(load_config(data_dir), setting) == in_config(setting, setting.default)


@pytest.mark.parametrize("setting", SETTINGS, ids=ids)
def test_a_missing_setting_takes_its_declared_default(
    data_dir: Path, tmp_path: Path, setting: Setting
) -> None:
    doc = tomlkit.parse((data_dir / CONFIG_NAME).read_text(encoding="utf-8"))
    del doc[setting.section][setting.key]
    (tmp_path / CONFIG_NAME).write_text(tomlkit.dumps(doc))
    assert configured(load_config(tmp_path), setting) == in_config(setting, setting.default)


@pytest.mark.parametrize("setting", SETTINGS, ids=ids)
def test_the_parser_enforces_each_declared_bound(
    data_dir: Path, tmp_path: Path, setting: Setting
) -> None:
    for value in outside(setting):
        with pytest.raises(UsageError) as refused:
            load_config(with_value(data_dir, tmp_path, setting, value))
        low, high = setting.bounds
        message = refused.value.template.format(**refused.value.params)
        assert f"[{setting.section}] {setting.key} must be from {low} to {high}" in message
    for value in (setting.low, setting.high):
        config = load_config(with_value(data_dir, tmp_path, setting, value))
        assert configured(config, setting) == in_config(setting, value)


@pytest.mark.parametrize("setting", [s for s in SETTINGS if isinstance(s.default, int)], ids=ids)
def test_a_whole_number_setting_refuses_fractions_and_booleans(
    data_dir: Path, tmp_path: Path, setting: Setting
) -> None:
    for value in (setting.default + 0.5, True):
        with pytest.raises(UsageError, match="missing or malformed"):
            load_config(with_value(data_dir, tmp_path, setting, value))


def values(setting: Setting) -> st.SearchStrategy[float]:
    """Any value within the setting's bounds."""
    if isinstance(setting.default, int):
        return st.integers(int(setting.low), int(setting.high))
    return st.floats(setting.low, setting.high, allow_nan=False)


@given(
    changes=st.lists(
        st.sampled_from(SETTINGS).flatmap(lambda s: st.tuples(st.just(s), values(s))),
        max_size=6,
    )
)
def test_changes_round_trip_and_keep_every_comment(
    data_dir: Path, changes: list[tuple[Setting, float]]
) -> None:
    text = (data_dir / CONFIG_NAME).read_text(encoding="utf-8")
    text = text.replace("[limits]\n", "[limits]\n# A note of our own.\n")
    comments = [line for line in text.splitlines() if line.startswith("#")]
    expected = tomllib.loads(text)
    for setting, value in changes:
        text = set_key(text, setting.section, setting.key, value)
        expected[setting.section][setting.key] = value
    assert tomllib.loads(text) == expected
    assert [line for line in text.splitlines() if line.startswith("#")] == comments


def test_every_setting_is_documented_with_its_default_and_bounds() -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "settings.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `[")]
    expected = []
    for setting in SETTINGS:
        low, high = setting.bounds
        value = setting.default
        default = str(value) if isinstance(value, int) else f"{value:g}"
        expected.append(f"| `[{setting.section}] {setting.key}` | {default} | {low} to {high} |")
    assert [row[: len(prefix)] for row, prefix in zip(rows, expected, strict=False)] == expected
    assert len(rows) == len(expected), "docs/settings.md lists a setting that is not declared"


def test_the_database_url_and_the_store_are_read_and_their_secrets_never_shown(
    tmp_path: Path,
) -> None:
    org = crypto.Identity.generate()
    config = init_instance(tmp_path / "i", [org.recipient])
    path = config.data_dir / "tainik.toml"
    url = "postgresql+psycopg://tainik:s3cr3t-pw@db.internal:5432/tainik"
    text = set_key(path.read_text(), "database", "url", url)
    for key, value in {
        "url": "s3://bucket/some/prefix",
        "endpoint": "http://127.0.0.1:8333",
        "access_key_id": "tainik",
        "secret_access_key": "s3cr3t-key",
    }.items():
        text = set_key(text, "store", key, value)
    path.write_text(text)
    loaded = load_config(config.data_dir)
    assert loaded.database_url == url
    assert (loaded.store.bucket, loaded.store.prefix) == ("bucket", "some/prefix/")
    assert loaded.store.is_s3
    assert "s3cr3t" not in repr(loaded)
    assert shown_url(url) == "postgresql+psycopg://tainik:***@db.internal:5432/tainik"
    assert shown_url("sqlite:////srv/tainik.db") == "sqlite:////srv/tainik.db"
    path.write_text(set_key(text, "store", "url", "http://bucket"))
    with pytest.raises(UsageError, match="s3://BUCKET"):
        load_config(config.data_dir)
    assert not init_instance(tmp_path / "j", [org.recipient]).store.is_s3
