"""Reading lines of overlay text with Tesseract 5, many lines per call.

pytesseract runs the Debian ``tesseract`` binary (``tesseract-ocr``, ``-rus``, ``-eng``) as a
subprocess; nothing is built against libtesseract (as tesserocr would need), and a crash of
Tesseract on a strange picture is a failed read, not a dead worker. Starting Tesseract and
loading its Russian and English models costs about 0.3 s, recognising one short line about
0.03 s, so :func:`read_lines` stacks every crop it is given into one picture and makes one
call: the lines come back by their position.

Each crop is prepared the way Tesseract reads best: scaled so that the text is
:data:`TEXT_HEIGHT` pixels high, thresholded into dark text on white (the text is the light
fill when there is one, halfway between the background's level and the lightest pixels; an
outline is never taken for the text), and cleared of blobs nested inside a letter's hole (the
dot of a dotted zero, which Tesseract otherwise reads as a 9).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
import pytesseract  # type: ignore[import-untyped]

from tainik.workstation.triage.errors import OverlayError

Gray = npt.NDArray[np.uint8]
#: Height of the text (in pixels) in what Tesseract is shown.
TEXT_HEIGHT = 32
LANGUAGES = "rus+eng"
#: Light text is taken when it stands this many grey levels above the background.
FILL_CONTRAST = 48
_GAP = 24  # white rows between stacked lines
_MARGIN = 12


@dataclass(frozen=True)
class Line:
    """What Tesseract read in one crop: the text and its mean word confidence (0-100)."""

    text: str
    confidence: float


def available() -> bool:
    """Whether the Tesseract binary runs."""
    try:
        pytesseract.get_tesseract_version()
    except (pytesseract.TesseractNotFoundError, OSError):
        return False
    return True


def prepare(crop: Gray, text_height: int) -> Gray:
    """``crop`` (grey, the text ``text_height`` pixels high) as dark text on white."""
    scale = TEXT_HEIGHT / max(text_height, 1)
    scaled = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    # Recorders draw light text with a dark outline (or the reverse) over any background: the
    # text is the fill, the extreme far from the background's level, never the outline.
    ground, light, dark = np.percentile(scaled, (50, 99.5, 0.5))
    if light - ground >= FILL_CONTRAST:
        text = np.where(scaled >= (ground + light) / 2, 255, 0).astype(np.uint8)
    else:
        text = np.where(scaled <= (ground + dark) / 2, 255, 0).astype(np.uint8)
    contours, hierarchy = cv2.findContours(text, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is not None:
        links = hierarchy[0]
        for index, (_, _, _, parent) in enumerate(links):
            if parent >= 0 and links[parent][3] >= 0:  # a blob inside a hole inside a blob
                cv2.drawContours(text, contours, index, 0, thickness=cv2.FILLED)
    return np.ascontiguousarray(255 - text)


def read_lines(crops: Sequence[Gray]) -> list[Line | None]:
    """Read each prepared crop (see :func:`prepare`) as one line; None where nothing was read.

    Raises :class:`OverlayError` when Tesseract cannot run.
    """
    if not crops:
        return []
    width = max(c.shape[1] for c in crops) + 2 * _MARGIN
    rows: list[Gray] = []
    bands: list[tuple[int, int]] = []
    top = _GAP
    rows.append(np.full((_GAP, width), 255, np.uint8))
    for crop in crops:
        padded = np.full((crop.shape[0], width), 255, np.uint8)
        padded[:, _MARGIN : _MARGIN + crop.shape[1]] = crop
        rows += [padded, np.full((_GAP, width), 255, np.uint8)]
        bands.append((top, top + crop.shape[0]))
        top += crop.shape[0] + _GAP
    picture = np.vstack(rows)
    # One video per core already: Tesseract's own threads would only compete.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        data = pytesseract.image_to_data(
            picture, lang=LANGUAGES, config="--psm 6", output_type=pytesseract.Output.DICT
        )
    except (pytesseract.TesseractError, pytesseract.TesseractNotFoundError, OSError) as exc:
        raise OverlayError(reason=str(exc)) from exc
    words: list[list[tuple[int, str, float]]] = [[] for _ in crops]
    for text, left, word_top, height, confidence in zip(
        data["text"], data["left"], data["top"], data["height"], data["conf"], strict=True
    ):
        if not str(text).strip() or float(confidence) < 0:
            continue
        middle = int(word_top) + int(height) / 2
        for index, (start, end) in enumerate(bands):
            if start - _GAP / 2 <= middle < end + _GAP / 2:
                words[index].append((int(left), str(text), float(confidence)))
                break
    lines: list[Line | None] = []
    for found in words:
        if not found:
            lines.append(None)
            continue
        found.sort()
        text = " ".join(w for _, w, _ in found)
        lines.append(Line(text, sum(c for _, _, c in found) / len(found)))
    return lines
