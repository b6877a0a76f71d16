"""``vault info`` warns about identifying metadata; ``vault scrub`` leaves none of it."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest

from tainik import crypto
from tainik.workstation.vault import items as vault_items
from tainik.workstation.vault import keyfile, media
from tainik.workstation.vault.custody import Action, CustodyRecord
from tainik.workstation.vault.derive import scrub_item
from tainik.workstation.vault.objects import hash_file
from tainik.workstation.vault.vault import Vault
from tainik.workstation.vault.verify import verify
from workstation.vault.support import exiftool, ffmpeg, import_into, seal

SEEDED = ("Hikvision", "CAM-SERIAL-0042", "55.7558", "block B camera 3", "Ivan Guard", "2023")


@pytest.fixture(scope="session")
def tagged_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MPEG-4 Part 2 video with AAC audio, GPS, device, serial, time, a rotation."""
    out = tmp_path_factory.mktemp("media") / "cam3.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=15:duration=3",
        "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
        "-c:v", "mpeg4", "-q:v", "5", "-c:a", "aac",
        "-metadata", "location=+55.7558+037.6173/",
        "-metadata", "make=Hikvision",
        "-metadata", "model=DS-2CD SN:CAM-SERIAL-0042",
        "-metadata", "creation_time=2023-05-01T03:04:05Z",
        "-metadata", "comment=block B camera 3",
        "-metadata:s:v:0", "handler_name=CAM-SERIAL-0042 video",
        "-movflags", "use_metadata_tags", str(out),
    )  # fmt: skip
    exiftool("-q", "-overwrite_original", "-Rotation=90", "-XMP-dc:Creator=Ivan Guard", str(out))
    return out


@pytest.fixture(scope="session")
def tagged_jpeg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JPEG with EXIF GPS, camera, serial number, owner and time."""
    out = tmp_path_factory.mktemp("media") / "photo.jpg"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240", "-frames:v", "1", str(out))
    exiftool(
        "-q", "-overwrite_original",
        "-GPSLatitude=55.7558", "-GPSLatitudeRef=N", "-GPSLongitude=37.6173",
        "-GPSLongitudeRef=E", "-Make=Hikvision", "-Model=DS-2CD",
        "-SerialNumber=CAM-SERIAL-0042", "-Artist=Ivan Guard",
        "-DateTimeOriginal=2023:05:01 03:04:05", str(out),
    )  # fmt: skip
    return out


def stored(
    vault: Vault, identity: crypto.Identity, path: Path, tmp: Path
) -> vault_items.StoredFile:
    seal(path.read_bytes(), tmp / "in", identity.recipient, name=path.name.encode())
    import_into(vault, [identity], [tmp / "in"])
    [item] = [i for i in vault_items.all_items(vault) if i.display_name == path.name]
    return vault_items.resolve(vault, str(item.id))


def exif(path: Path) -> dict[str, object]:
    value = json.loads(exiftool("-json", "-a", "-G1", "-s", "-ee", str(path)))[0]
    return {
        k: v
        for k, v in value.items()
        if k.split(":")[0] not in ("ExifTool", "System", "File", "SourceFile")
    }


def test_info_warns_about_what_identifies(tagged_video: Path, tagged_jpeg: Path) -> None:
    for path in (tagged_video, tagged_jpeg):
        info = media.describe(path)
        concerns = {w.concern for w in info.warnings}
        assert {media.Concern.LOCATION, media.Concern.DEVICE, media.Concern.TIME} <= concerns
        values = " ".join(w.value for w in info.warnings)
        assert "CAM-SERIAL-0042" in values
        assert "Ivan Guard" in values
    video = media.describe(tagged_video)
    assert video.container is not None
    streams = video.container["streams"]
    assert isinstance(streams, list)
    first = streams[0]
    assert isinstance(first, dict)
    assert (first["type"], first["codec"], first["width"]) == ("video", "mpeg4", 320)
    side_data = first["side_data"]
    assert isinstance(side_data, list)
    assert "DISPLAYMATRIX" in side_data


def test_info_finds_nothing_in_a_plain_file(tmp_path: Path) -> None:
    plain = tmp_path / "notes.txt"
    plain.write_text("nothing to see\n")
    info = media.describe(plain)
    assert info.container is None
    assert info.warnings == []


def test_scrubbed_video_is_reencoded_and_clean(
    vault: Vault, org_identity: crypto.Identity, tagged_video: Path, tmp_path: Path
) -> None:
    original = stored(vault, org_identity, tagged_video, tmp_path)
    key = keyfile.load(vault.paths.key_file, None)
    with vault.writer(key, "editor") as writer:
        derived = scrub_item(writer, original, tmp_path / "work")
    copy = derived.working_copy
    assert copy.name == f"scrubbed-{derived.derived.sha256[:16]}.mp4"
    # exiftool finds only what an MP4 needs: no Keys, UserData, ItemList, XMP or GPS at all.
    tags = exif(copy)
    groups = {k.split(":")[0] for k in tags}
    assert groups <= {"QuickTime", "Track1", "Track2", "Composite"}, groups
    text = json.dumps(tags)
    for seeded in SEEDED:
        assert seeded not in text, seeded
    assert tags["QuickTime:CreateDate"] == "0000:00:00 00:00:00"
    assert tags["Track1:HandlerDescription"] == "VideoHandler"
    # A re-encode, not a remux: a new codec, the rotation applied to the pixels, no side data.
    with av.open(str(copy)) as container:
        video = container.streams.video[0]
        assert video.codec_context.name == "h264"
        assert (video.codec_context.width, video.codec_context.height) == (180, 320)
        assert container.streams.audio[0].codec_context.name == "aac"
        frame = next(container.decode(video=0))
        assert list(frame.side_data) == []
    # The original is untouched; the derivation is stored and recorded.
    assert hash_file(vault.objects.path(original.ref.sha256)) == original.ref
    assert vault.objects.path(derived.derived.sha256).read_bytes() == copy.read_bytes()
    record = CustodyRecord.parse(dict(vault.records())[derived.record.seq])
    assert record.action == Action.DERIVE
    assert record.file_refs(record.inputs) == [original.ref]
    assert record.file_refs(record.outputs) == [derived.derived]
    assert record.details["method"] == "reencode"
    assert verify(vault).ok
    again = vault_items.resolve(vault, derived.derived.sha256[:12])
    assert again.derived_from == original.ref.sha256


def test_scrubbed_jpeg_is_clean(
    vault: Vault, org_identity: crypto.Identity, tagged_jpeg: Path, tmp_path: Path
) -> None:
    original = stored(vault, org_identity, tagged_jpeg, tmp_path)
    key = keyfile.load(vault.paths.key_file, None)
    with vault.writer(key, "editor") as writer:
        derived = scrub_item(writer, original, tmp_path / "work")
    tags = exif(derived.working_copy)
    assert {k.split(":")[0] for k in tags} <= {"JFIF", "Composite"}, tags
    for seeded in SEEDED:
        assert seeded not in json.dumps(tags)
    assert derived.method == "mat2"
    assert verify(vault).ok
