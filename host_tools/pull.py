"""`rearguard pull`: handshake, set the clock, fetch the sessions the database
lacks, verify, store them in one transaction, and only then acknowledge them
on the clip.

    report = pull(DeviceLink.open(port), SessionDB.open(path), progress=None)
    report.new, report.already, report.acked
    pull(link, db, everything=True)      # `pull --all`: also what the clip already gave

The clip keeps acknowledged sessions until it needs the room (oldest first),
so a new or lost database gets them back with `pull --all`; a session is
known by its content (the file's CRC), so nothing is stored twice.
Interrupted pulls resume: fetched bytes sit in the database's staging table,
so the next pull asks the clip only for what is missing. Nothing is
acknowledged unless it is committed in the database first.
"""

import time

from host_tools import names, track  # noqa: F401  (names: the `micropython` rearguard.gauge imports)
from host_tools.link import MAX_SESSION_BYTES, LinkError
from rearguard import gauge, sessionfile

# Hours of running a full 400 mAh cell gives the clip, from the power model's
# 30-minute session (docs/power.md; `make bench`: power_long_session_ma).
FULL_CHARGE_RUNNING_H = 9.0


class PullReport:
    def __init__(self, info):
        self.info = info
        self.new = []  # session ids stored by this pull
        self.already = []  # ids the database had (acked again if the clip asked)
        self.acked = 0
        self.bad = []  # (id, reason) sessions the clip holds that failed verification
        self.clashes = []  # ids the database holds with other content (the clip was erased?)
        self.dated = 0  # sessions dated from the clip's uptime
        self.left_on_clip = 0  # acknowledged sessions the clip still holds that were not asked for


def pull(link, db, progress=None, set_clock=True, everything=False):
    """`progress(total_bytes)` returns a callable taking a byte count (or None).
    `everything`: also fetch the sessions the clip has already given (to
    another database, or to this one before it was lost)."""
    db.check_writable()
    info = link.hello()
    device = info["uid"]
    report = PullReport(info)
    db.saw_clip(device, info)
    now_s = int(time.time())
    if set_clock:
        link.set_time(now_s)
    entries = link.list_sessions(unsynced_only=not everything)
    held = {e.session_id: db.held(device, e.session_id) for e in entries}
    report.already = [e.session_id for e in entries if held[e.session_id] == e.crc]
    report.clashes = [e.session_id for e in entries if held[e.session_id] not in (None, e.crc)]
    todo = [e for e in entries if held[e.session_id] is None]
    _fetch(link, db, device, todo, report, progress)
    stored = db.commit_staged(device)
    report.new = [s for s in stored if s not in report.already]
    unsynced = {e.session_id for e in entries if not e.synced}
    to_ack = sorted((set(stored) | set(report.already)) & unsynced)
    if to_ack:
        report.acked = link.ack(to_ack)
    if "boot" in info and "up" in info:
        report.dated = db.date_from_uptime(device, [e.session_id for e in entries], int(info["boot"]),
                                           int(info["up"]), now_s)
    if not everything:
        report.left_on_clip = _left_on_clip(db, device, info)
    return report


def _fetch(link, db, device, todo, report, progress):
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


def _left_on_clip(db, device, info):
    # The new-laptop case: the clip holds acknowledged sessions this database
    # has none of. (More precise would need the whole list: that is --all.)
    try:
        synced = int(info.get("sessions", 0)) - int(info.get("unsynced", 0))
    except ValueError:
        return 0
    if synced <= 0 or db.holds_any(device):
        return 0
    return synced


def _keep_partial(link, db, device):
    partial = getattr(link, "partial", None)
    if partial is not None:
        entry, data = partial
        db.stage(device, entry.session_id, entry.crc, entry.size, data)


def _verify(blob, entry):
    if len(blob) > MAX_SESSION_BYTES:
        return "too large"
    try:
        summary = track.decode(track.split(blob)[0])[0]
    except sessionfile.SessionFileError as e:
        return str(e)
    if summary["session_id"] != entry.session_id:
        return "file holds session %d, listed as %d" % (summary["session_id"], entry.session_id)
    return None


def battery_text(info):
    """The clip's battery as the handshake reports it, for a person: percent
    and the running hours it is good for."""
    pct = int(info.get("bat_pct", -1))
    usb = info.get("usb") == "1"
    if pct < 0:
        mv = int(info.get("bat_mv", 0))
        if usb or mv < 2000:
            return "battery: on USB power, its charge is known once it has run on battery"
        pct = gauge.percent(mv)  # an older firmware: the voltage under load
    text = "battery %d%%, about %.1f h of running left" % (pct, FULL_CHARGE_RUNNING_H * pct / 100)
    return text + (" (when last on battery; charging now)" if usb else "")


def battery_used_text(start_mv, end_mv):
    """A session's battery readings, and the charge it used."""
    text = "%d -> %d mV" % (start_mv, end_mv)
    if start_mv < 2000 or end_mv < 2000:
        return text + " (on USB power)"
    start, end = gauge.percent(start_mv), gauge.percent(end_mv)
    return text + " (%d%% -> %d%%, %d%% used)" % (start, end, max(0, start - end))
