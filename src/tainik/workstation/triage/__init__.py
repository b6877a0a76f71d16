"""Video triage: point reviewers at the minutes of CCTV footage that have activity and sound.

A video is decoded once at reduced size and frame rate; background subtraction gives an
activity signal, the audio track's momentary loudness a sound signal, and optional detector
models (ONNX) their own. The signals become scored segments, ranked across every video, and a
report (JSON, and static HTML with gentle thumbnails) with clips cut without re-encoding.
docs/triage.md describes the method, the parameters and the interfaces.

Module map: ``params`` (settings), ``items`` (inputs, and the vault's hooks), ``decoding``
(PyAV), ``activity`` (OpenCV background subtraction), ``loudness`` (BS.1770 loudness),
``detectors`` (plug-in models), ``signals`` and ``cache`` (raw measurements, reused on re-runs),
``evidence`` (signals on one time grid), ``segmentation`` (hysteresis, minimum length, padding),
``scoring`` (scores and the ranking), ``thumbnails``, ``clips``, ``analysis`` (one video),
``runner`` (many videos on every core), ``results``, and the reports: ``report`` (what goes
where), ``report_json`` (the JSON codec, both directions), ``report_html`` and ``timeline``
(the SVG plot). ``command`` is a whole run as the command line asks for it (checks first).
Also ``errors`` and ``files`` (hashes, atomic writes).
"""
