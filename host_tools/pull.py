"""`rearguard pull`: handshake, set the clock, fetch the new sessions, verify,
store them in one transaction, and only then acknowledge them on the clip.

    report = pull(DeviceLink.open(port), SessionDB.open(path), progress=None)
    report.new, report.already, report.acked

Interrupted pulls resume: fetched bytes sit in the database's staging table,
so the next pull asks the clip only for what is missing. Nothing is
acknowledged unless it is committed in the database first.
"""

import time

from host_tools.link import MAX_SESSION_BYTES, LinkError
from rearguard import sessionfile


class PullReport:
    def __init__(self, info):
        self.info = info
        self.new = []  # session ids stored by this pull
        self.already = []  # ids the database had (acked again if the clip asked)
        self.acked = 0
        self.bad = []  # (id, reason) sessions the clip holds that failed verification


def pull(link, db, progress=None, set_clock=True):
    """`progress(total_bytes)` returns a callable taking a byte count (or None)."""
    db.check_writable()
    info = link.hello()
    device = info["uid"]
    report = PullReport(info)
    if set_clock:
        link.set_time(int(time.time()))
    entries = link.list_sessions(unsynced_only=True)
    todo = [e for e in entries if not db.has(device, e.session_id, e.crc)]
    report.already = [e.session_id for e in entries if db.has(device, e.session_id, e.crc)]
    advance = progress(sum(e.size for e in todo)) if progress else None
    haves = {}
    for entry in todo:
        haves[entry.session_id] = db.staged(device, entry.session_id, entry.crc, entry.size)
        if advance and haves[entry.session_id]:
            advance(len(haves[entry.session_id]))

    def landed(entry, blob):
        reason = _verify(blob, entry)
        if reason:
            report.bad.append((entry.session_id, reason))
        else:
            db.stage(device, entry.session_id, entry.crc, entry.size, blob)

    try:
        link.fetch_many(todo, haves, advance, on_session=landed)
    except LinkError:
        # Keep what arrived: the next pull resumes from the staging table.
        _keep_partial(link, db, device)
        raise
    stored = db.commit_staged(device)
    report.new = [s for s in stored if s not in report.already]
    to_ack = sorted(set(stored) | set(report.already))
    if to_ack:
        report.acked = link.ack(to_ack)
    return report


def _keep_partial(link, db, device):
    partial = getattr(link, "partial", None)
    if partial is not None:
        entry, data = partial
        db.stage(device, entry.session_id, entry.crc, entry.size, data)


def _verify(blob, entry):
    if len(blob) > MAX_SESSION_BYTES:
        return "too large"
    try:
        summary = sessionfile.decode(blob)[0]
    except sessionfile.SessionFileError as e:
        return str(e)
    if summary["session_id"] != entry.session_id:
        return "file holds session %d, listed as %d" % (summary["session_id"], entry.session_id)
    return None
