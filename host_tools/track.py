"""A session as the clip sends it, and its track.

From session format 2 the clip sends a session's file followed by its track
(one 4-byte sample per second of the run); the file's summary holds the
track's length and CRC-32. docs/formats.md is the spec; the clip's side is
rearguard.session (SessionKeeper._sample).

    file, track = split(raw)       # SessionFileError unless both are intact
    summary, firmware, board, events = decode(file)     # any format the clip wrote
    samples(track)                 # [Sample], the first for the run's first second
    spans(samples(track), "blind") # [(start_s, end_s)] while the flag held
"""

import struct
from dataclasses import dataclass

from rearguard import sessionfile

SAMPLE_BYTES = 4
SPEED_UNIT_MM_S = 25
RANGE_UNIT_MM = 20
NO_RANGE = 255
_TOO_FAST, _BLIND, _PAUSED = 4, 8, 16
SessionFileError = sessionfile.SessionFileError


@dataclass(frozen=True)
class Sample:
    t_s: int  # the second [t_s, t_s + 1) of the run, pauses included
    speed_mm_s: int
    cadence_spm: int
    range_mm: int | None  # nearest range that second; None: nothing seen
    level: int  # highest alert level that second (0 none .. 3 stop)
    too_fast: bool
    blind: bool
    paused: bool


def split(raw):
    """(session file, track bytes) of what the clip sent; SessionFileError if
    the file or the track does not check out."""
    raw = bytes(raw)
    if len(raw) < 8 or raw[3] < 2:
        sessionfile.check(raw)
        return raw, b""
    n = sessionfile.track_size(raw)
    if n > len(raw):
        raise SessionFileError("session track longer than what arrived")
    file, track = raw[: len(raw) - n], raw[len(raw) - n :]
    sessionfile.check(file)
    if decode(file)[0]["track_crc"] != sessionfile.crc32(track):
        raise SessionFileError("session track checksum mismatch")
    return file, track


def decode(file):
    """sessionfile.decode for every format a clip has written: a format 1 file
    (before the track) reads as format 2 with an empty track."""
    file = bytes(file)
    if len(file) > 4 and file[3] == 1:
        sessionfile.check(file)
        at = 4 + struct.calcsize("<" + "".join(f[1] for f in sessionfile.summary_fields()[:-2]))
        body = file[:3] + b"\x02" + file[4:at] + struct.pack("<II", 0, 0) + file[at:-4]
        file = body + struct.pack("<I", sessionfile.crc32(body))
    return sessionfile.decode(file)


def intact_crc(raw):
    """The session file's CRC (what the clip lists) if all of raw checks out, else None."""
    try:
        return sessionfile.check(split(raw)[0])[1]
    except (SessionFileError, IndexError, ValueError):
        return None


def samples(track):
    out = []
    for i in range(len(track) // SAMPLE_BYTES):
        speed, cadence, near, flags = track[SAMPLE_BYTES * i : SAMPLE_BYTES * i + SAMPLE_BYTES]
        out.append(Sample(i, speed * SPEED_UNIT_MM_S, cadence,
                          None if near == NO_RANGE else near * RANGE_UNIT_MM, flags & 3,
                          bool(flags & _TOO_FAST), bool(flags & _BLIND), bool(flags & _PAUSED)))
    return out


def spans(track_samples, test):
    """[(start_s, end_s)] of the stretches where test(sample) holds; `test`
    may be a flag's name ("blind", "too_fast", "paused")."""
    if isinstance(test, str):
        name = test

        def test(s):
            return getattr(s, name)
    out = []
    start = None
    for s in track_samples:
        if test(s) and start is None:
            start = s.t_s
        elif not test(s) and start is not None:
            out.append((start, s.t_s))
            start = None
    if start is not None:
        out.append((start, track_samples[-1].t_s + 1))
    return out
