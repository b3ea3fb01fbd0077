"""The coach's session database (SQLite) and where it lives.

    db = SessionDB.open(default_db_path())        # or --db PATH
    db.check_writable()                           # clear error before anything is acked
    db.saw_clip(uid, hello_info)                  # every pull: the clip is known
    db.stage(uid, ...); db.commit_staged(uid) -> stored ids
    db.sessions(Filter(clips=[uid], since=...)) -> [dict]; db.find("Ana/3") -> dict
    db.events(uid, session_id); db.track(uid, session_id)
    db.clips() -> [dict]; db.name_clip(uid, "Ana")

Sessions are keyed by (clip uid, session id) and known by content (the session
file's CRC): pulling twice adds nothing, and a different run under a known id
(a clip whose flash was erased) is refused rather than written over. Fetched
bytes wait in a staging table (an interrupted pull resumes where it stopped)
and move into `sessions` in one transaction, only then acknowledged.
Everything the device said reaches SQL as bound parameters, never as names.

A session's reference, as shown and as typed: "<clip>/<id>", where <clip> is
the clip's name when no other clip has it, else its uid ("Ana/3",
"240ac45a1001/3"); a bare id is enough when only one clip has it.
"""

import os
import sqlite3
import sys
import time
from dataclasses import dataclass

from host_tools import names, track
from rearguard import sessionfile

ENV_HOME = "REARGUARD_HOME"
SCHEMA_VERSION = 2  # 2: clips, the host's start time, the track's fields
MAX_NAME = 40


def data_dir():
    """Platform-appropriate user data directory; REARGUARD_HOME overrides (tests)."""
    if os.environ.get(ENV_HOME):
        return os.environ[ENV_HOME]
    home = os.path.expanduser("~")
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local")
    elif sys.platform == "darwin":
        base = os.path.join(home, "Library", "Application Support")
    else:
        base = os.environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
    return os.path.join(base, "rearguard")


def default_db_path():
    return os.path.join(data_dir(), "sessions.db")


class DBError(Exception):
    """The database cannot be used; the message says what to do."""


class NotFound(Exception):
    """A clip or session reference that matches nothing, or more than one thing."""


def _explain(e, path):
    text = str(e).lower()
    if "locked" in text or "busy" in text:
        return "database %s is locked by another program (another pull?): close it and retry" % path
    if "readonly" in text or "read-only" in text:
        return "database %s is read-only: fix its permissions or pass --db PATH" % path
    if "unable to open" in text:
        return "cannot open database %s: check the folder exists and is writable, or pass --db" % path
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return ("database %s is damaged (%s): use a backup, or pull into a new one "
                "(--db NEW.db pull --all fetches what the clip still holds)" % (path, e))
    return "database %s: %s" % (path, e)


@dataclass
class Filter:
    """Which sessions: clip uids (None: all), and dates (local time; a date
    filter leaves undated runs out)."""

    clips: list | None = None
    since_s: int | None = None
    until_s: int | None = None

    def dated_only(self):
        return self.since_s is not None or self.until_s is not None


_SUMMARY = sessionfile.summary_names()
_HOST_COLUMNS = (("firmware", "TEXT"), ("board", "TEXT"), ("crc", "INTEGER"), ("size", "INTEGER"),
                 ("raw", "BLOB"), ("pulled_unix_s", "INTEGER"),
                 ("start_s", "INTEGER"),  # UTC start as known to the host, NULL: undated
                 ("dated", "TEXT"))  # how: "clock" (the clip's), "uptime" (at the pull)


class SessionDB:
    def __init__(self, conn, path):
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path, create=True):
        uri = path.startswith("file:")  # e.g. file:/path/s.db?mode=ro
        folder = os.path.dirname(os.path.abspath(path))
        try:
            if create and not uri:
                os.makedirs(folder, exist_ok=True)
            elif not uri and not os.path.exists(path):
                raise DBError("no database at %s yet: run `rearguard pull` first" % path)
            conn = sqlite3.connect(path, timeout=1.0, isolation_level=None, uri=uri)
            db = cls(conn, path)
            db._schema()
            return db
        except (sqlite3.Error, OSError) as e:
            raise DBError(_explain(e, path)) from e

    def close(self):
        self.conn.close()

    def _q(self, sql, args=()):
        try:
            return self.conn.execute(sql, args).fetchall()
        except sqlite3.Error as e:
            raise DBError(_explain(e, self.path)) from e

    # --- schema ------------------------------------------------------------------
    def _schema(self):
        c = self.conn
        try:
            has = c.execute("SELECT name FROM sqlite_master WHERE name='sessions'").fetchone()
        except sqlite3.OperationalError as e:
            raise DBError(_explain(e, self.path)) from e
        except sqlite3.DatabaseError as e:
            raise DBError("%s is not a RearGuard database (%s)" % (self.path, e)) from e
        if has:
            self._migrate()
            return
        columns = ", ".join(["%s INTEGER" % n for n in _SUMMARY] + ["%s %s" % c_ for c_ in _HOST_COLUMNS])
        c.executescript(
            """
            BEGIN;
            CREATE TABLE sessions (device TEXT NOT NULL, %s, PRIMARY KEY (device, session_id));
            CREATE TABLE events (device TEXT NOT NULL, session_id INTEGER NOT NULL,
                t_ms INTEGER, kind TEXT, level TEXT);
            CREATE INDEX events_by_session ON events (device, session_id);
            CREATE TABLE staging (device TEXT NOT NULL, session_id INTEGER NOT NULL,
                crc INTEGER, size INTEGER, raw BLOB, PRIMARY KEY (device, session_id));
            CREATE TABLE clips (uid TEXT PRIMARY KEY, name TEXT, board TEXT, firmware TEXT,
                first_pull_s INTEGER, last_pull_s INTEGER, battery_mv INTEGER);
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
            INSERT INTO meta VALUES ('schema', '%d');
            COMMIT;
            """ % (columns, SCHEMA_VERSION)
        )

    def _migrate(self):
        # Schema 1 (before clips and the track): add what is missing, keep every row.
        try:
            have = {r[1] for r in self.conn.execute("PRAGMA table_info(sessions)")}
            missing = [(n, "INTEGER") for n in _SUMMARY if n not in have]
            missing += [c for c in _HOST_COLUMNS if c[0] not in have]
            tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master")}
            if not missing and "clips" in tables:
                return
            # One script, one transaction (the names are ours, not the device's).
            self.conn.executescript(
                "BEGIN IMMEDIATE;"
                + "".join("ALTER TABLE sessions ADD COLUMN %s %s;" % c for c in missing)
                + """
                CREATE TABLE IF NOT EXISTS clips (uid TEXT PRIMARY KEY, name TEXT, board TEXT,
                    firmware TEXT, first_pull_s INTEGER, last_pull_s INTEGER, battery_mv INTEGER);
                INSERT OR IGNORE INTO clips (uid, board, firmware, first_pull_s, last_pull_s)
                    SELECT device, MAX(board), MAX(firmware), MIN(pulled_unix_s), MAX(pulled_unix_s)
                    FROM sessions GROUP BY device;
                UPDATE sessions SET track_bytes = 0 WHERE track_bytes IS NULL;
                UPDATE sessions SET track_crc = 0 WHERE track_crc IS NULL;
                UPDATE sessions SET start_s = start_unix_s, dated = 'clock'
                    WHERE start_s IS NULL AND flags & 2 AND start_unix_s > 0;
                INSERT OR REPLACE INTO meta VALUES ('schema', '%d');
                COMMIT;
                """ % SCHEMA_VERSION)
        except sqlite3.Error as e:
            self._rollback()
            raise DBError(_explain(e, self.path)) from e

    def check_writable(self):
        """Raise DBError now if nothing could be stored (read-only, locked)."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('last_open', ?)", (str(int(time.time())),))
            self.conn.execute("COMMIT")
        except sqlite3.Error as e:
            self._rollback()
            raise DBError(_explain(e, self.path)) from e

    def _rollback(self):
        try:
            self.conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def _write(self, sql, args=()):
        try:
            self.conn.execute(sql, args)
        except sqlite3.Error as e:
            raise DBError(_explain(e, self.path)) from e

    # --- pull --------------------------------------------------------------
    def saw_clip(self, uid, info, now_s=None):
        """A pull talked to this clip (uid and HELLO values)."""
        now_s = int(time.time()) if now_s is None else now_s
        self._write("INSERT OR IGNORE INTO clips (uid, first_pull_s) VALUES (?, ?)", (uid, now_s))
        self._write("UPDATE clips SET board=?, firmware=?, last_pull_s=?, battery_mv=? WHERE uid=?",
                    (info.get("board"), info.get("fw"), now_s, _int_or_none(info.get("bat_mv")), uid))

    def held(self, device, session_id):
        """The CRC of the session stored under this id, or None."""
        rows = self._q("SELECT crc FROM sessions WHERE device=? AND session_id=?", (device, session_id))
        return rows[0][0] if rows else None

    def has(self, device, session_id, crc):
        return self.held(device, session_id) == crc

    def holds_any(self, device):
        return bool(self._q("SELECT 1 FROM sessions WHERE device=? LIMIT 1", (device,)))

    def staged(self, device, session_id, crc, size):
        """Bytes already fetched for this session (resume), else b''."""
        rows = self._q("SELECT crc, size, raw FROM staging WHERE device=? AND session_id=?",
                       (device, session_id))
        if not rows or rows[0][0] != crc or rows[0][1] != size:
            return b""
        return bytes(rows[0][2])

    def stage(self, device, session_id, crc, size, raw):
        self._write("INSERT OR REPLACE INTO staging VALUES (?, ?, ?, ?, ?)",
                    (device, session_id, crc, size, bytes(raw)))

    def commit_staged(self, device):
        """Move every complete staged session into `sessions` in one transaction.
        Returns the session ids now stored (new or already there, same content)."""
        c = self.conn
        try:
            c.execute("BEGIN IMMEDIATE")
            stored = []
            rows = c.execute("SELECT session_id, crc, size, raw FROM staging WHERE device=?",
                             (device,)).fetchall()
            for session_id, crc, size, raw in rows:
                if len(raw) != size or track.intact_crc(raw) != crc:
                    continue  # partial: stays staged for the next pull
                held = self.held(device, session_id)
                if held is None:
                    self._insert(device, session_id, crc, raw)
                if held in (None, crc):
                    stored.append(session_id)
                c.execute("DELETE FROM staging WHERE device=? AND session_id=?", (device, session_id))
            c.execute("COMMIT")
            return stored
        except (sqlite3.Error, DBError) as e:
            self._rollback()
            raise e if isinstance(e, DBError) else DBError(_explain(e, self.path)) from e

    def _insert(self, device, session_id, crc, raw):
        summary, firmware, board, evs = track.decode(track.split(raw)[0])
        start = summary["start_unix_s"] if summary["flags"] & sessionfile.FLAG_CLOCK_KNOWN else 0
        cols = ("device",) + _SUMMARY + ("firmware", "board", "crc", "size", "raw", "pulled_unix_s",
                                         "start_s", "dated")
        values = ((device,) + tuple(summary[n] for n in _SUMMARY)
                  + (firmware, board, crc, len(raw), bytes(raw), int(time.time()),
                     start or None, "clock" if start else None))
        self.conn.execute("INSERT INTO sessions (%s) VALUES (%s)" % (", ".join(cols), ", ".join("?" * len(cols))),
                          values)
        self.conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)",
                              [(device, session_id, t, names.kind(k), names.level(lv)) for t, k, lv in evs])

    def date_from_uptime(self, device, session_ids, boot, up_ms, now_s):
        """Undated sessions recorded in the boot the clip is in now: their start
        is now less the clip's uptime since then. Returns how many were dated."""
        dated = 0
        for sid in session_ids:
            rows = self._q("SELECT start_uptime_ms FROM sessions WHERE device=? AND session_id=? "
                           "AND start_s IS NULL AND boot=?", (device, sid, boot))
            if rows:
                ago_ms = (up_ms - rows[0][0]) % TICKS_PERIOD
                self._write("UPDATE sessions SET start_s=?, dated='uptime' WHERE device=? AND session_id=?",
                            (now_s - ago_ms // 1000, device, sid))
                dated += 1
        return dated

    # --- clips -------------------------------------------------------------------
    def clips(self):
        rows = self._q("SELECT c.uid, c.name, c.board, c.firmware, c.first_pull_s, c.last_pull_s, "
                       "c.battery_mv, COUNT(s.session_id), SUM(s.distance_mm), MIN(s.start_s), "
                       "MAX(s.start_s) FROM clips c LEFT JOIN sessions s ON s.device = c.uid "
                       "GROUP BY c.uid ORDER BY c.first_pull_s, c.uid")
        keys = ("uid", "name", "board", "firmware", "first_pull_s", "last_pull_s", "battery_mv",
                "sessions", "distance_mm", "first_run_s", "last_run_s")
        out = [dict(zip(keys, r)) for r in rows]
        tags = _tags(out)
        for c in out:
            c["tag"] = tags[c["uid"]]
            c["distance_mm"] = c["distance_mm"] or 0
        return out

    def find_clips(self, text, by_name_only=False):
        """uids of the clips `text` names: a name (any case), else a uid or the
        start of one. NotFound if none."""
        want = text.strip().casefold()
        known = self.clips()
        found = [c["uid"] for c in known if c["name"] and c["name"].casefold() == want]
        if not found and not by_name_only:
            found = [c["uid"] for c in known if c["uid"] == text] or \
                    [c["uid"] for c in known if len(text) >= 4 and c["uid"].startswith(text.lower())]
        if not found:
            what = "athlete" if by_name_only else "clip"
            raise NotFound("no %s %r in %s: `rearguard clips` lists them" % (what, text, self.path))
        return found

    def name_clip(self, uid, name):
        name = " ".join(name.split())
        if len(name) > MAX_NAME or "/" in name or not name.isprintable():
            raise NotFound("a name is up to %d printable characters, without '/'" % MAX_NAME)
        if any(c["uid"] == name.lower() for c in self.clips()):
            raise NotFound("%r is a clip's uid: pick another name" % name)
        self._write("UPDATE clips SET name=? WHERE uid=?", (name or None, uid))

    # --- reading -------------------------------------------------------------
    def sessions(self, where=None):
        where = where or Filter()
        sql = ("SELECT s.*, c.name AS athlete FROM sessions s LEFT JOIN clips c ON c.uid = s.device"
               " WHERE 1")
        args = []
        if where.clips is not None:
            sql += " AND s.device IN (%s)" % ", ".join("?" * len(where.clips))
            args += where.clips
        if where.since_s is not None:
            sql += " AND s.start_s >= ?"
            args.append(where.since_s)
        if where.until_s is not None:
            sql += " AND s.start_s < ?"
            args.append(where.until_s)
        sql += " ORDER BY s.start_s IS NULL, s.start_s, s.device, s.session_id"
        try:
            cur = self.conn.execute(sql, args)
            cols = [d[0] for d in cur.description]
            rows = [dict(zip(cols, r)) for r in cur.fetchall()]
        except sqlite3.Error as e:
            raise DBError(_explain(e, self.path)) from e
        tags = {c["uid"]: c["tag"] for c in self.clips()}
        return [_row(r, tags.get(r["device"], r["device"])) for r in rows]

    def undated_count(self, where):
        """Sessions a date filter left out because they have no date."""
        return len([r for r in self.sessions(Filter(clips=where.clips)) if r["start_s"] is None])

    def find(self, ref, where=None):
        """The one session `ref` ("Ana/3", "240ac45a1001/3" or "3") names among
        `where`; NotFound if none or several."""
        clip, _, number = ref.rpartition("/")
        if not number.isdigit():
            raise NotFound("%r is not a session: use an id from `rearguard sessions` (e.g. 3 or Ana/3)" % ref)
        where = where or Filter()
        if clip:
            uids = self.find_clips(clip)
            where = Filter(uids if where.clips is None else [u for u in uids if u in where.clips],
                           where.since_s, where.until_s)
        found = [r for r in self.sessions(where) if r["session_id"] == int(number)]
        if not found:
            raise NotFound("no session %s in %s: `rearguard sessions` lists them" % (ref, self.path))
        if len(found) > 1:
            raise NotFound("session %s is on %d clips: say which (%s)"
                           % (ref, len(found), ", ".join(r["ref"] for r in found)))
        return found[0]

    def events(self, device, session_id):
        rows = self._q("SELECT t_ms, kind, level FROM events WHERE device=? AND session_id=? "
                       "ORDER BY t_ms", (device, session_id))
        return [{"t_ms": t, "kind": k, "level": lv} for t, k, lv in rows]

    def track(self, device, session_id):
        rows = self._q("SELECT raw FROM sessions WHERE device=? AND session_id=?", (device, session_id))
        return track.samples(track.split(rows[0][0])[1]) if rows else []


TICKS_PERIOD = 1 << 30  # MicroPython's ticks_ms wraps here (about 12.4 days)


def _tags(clips):
    # A clip's name when no other clip has it, else its uid.
    count = {}
    for c in clips:
        if c["name"]:
            count[c["name"].casefold()] = count.get(c["name"].casefold(), 0) + 1
    return {c["uid"]: c["name"] if c["name"] and count[c["name"].casefold()] == 1 else c["uid"]
            for c in clips}


def _int_or_none(text):
    return int(text) if text is not None and str(text).isdigit() else None


def _row(d, tag):
    d.pop("raw", None)
    d["ref"] = "%s/%d" % (tag, d["session_id"])
    d["recovered"] = bool(d["flags"] & sessionfile.FLAG_RECOVERED)
    d["clock_known"] = bool(d["flags"] & sessionfile.FLAG_CLOCK_KNOWN)
    return d
