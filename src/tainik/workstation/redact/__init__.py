"""Face redaction of video: detect, track, cover, re-encode (docs/redaction.md).

The pipeline runs in two passes over the video. The first detects faces on every frame and
tracks them (:mod:`.detector`, :mod:`.tracker`), then turns the tracks into a
:class:`~.plan.RedactionPlan`: what to cover in each frame, with padding before and after
each track and through its gaps. The second pass renders the plan (:mod:`.render`) and
re-encodes everything without metadata (:mod:`.video`, :mod:`.audio`). A QA report
(:mod:`.report`) lists the frames a person should check. :mod:`.records` is the codec of the
JSON it writes (the redaction record, the boxes), for writers and readers alike.
"""
