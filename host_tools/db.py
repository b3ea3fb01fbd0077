"""The athlete's session database (SQLite) and where it lives.

    db = SessionDB.open(default_db_path())        # or --db PATH
    db.check_writable()                           # clear error before anything is acked
    db.stage(uid, entry, blob); db.commit_staged(uid) -> new ids
    db.sessions() -> [dict]; db.events(uid, session_id) -> [dict]

Sessions are keyed by (device uid, session id): pulling twice adds nothing.
Fetched bytes wait in a staging table (so an interrupted pull resumes where it
stopped) and move into `sessions` in one transaction, only then acknowledged.
Everything the device said reaches SQL as bound parameters, never as names.
"""

import os
import sqlite3
import sys
import time

from host_tools import names
from rearguard import sessionfile

ENV_HOME = "REARGUARD_HOME"
SCHEMA_VERSION = 1


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


def _explain(e, path):
    text = str(e).lower()
    if "locked" in text or "busy" in text:
        return "database %s is locked by another program (another pull?): close it and retry" % path
    if "readonly" in text or "read-only" in text:
        return "database %s is read-only: fix its permissions or pass --db PATH" % path
    if "unable to open" in text:
        return "cannot open database %s: check the folder exists and is writable, or pass --db" % path
    return "database %s: %s" % (path, e)


_COLUMNS = ", ".join("%s INTEGER" % n for n in sessionfile.summary_names())


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

    def _schema(self):
        c = self.conn
        try:
            has = c.execute("SELECT name FROM sqlite_master WHERE name='sessions'").fetchone()
        except sqlite3.OperationalError as e:
            raise DBError(_explain(e, self.path)) from e
        except sqlite3.DatabaseError as e:
            raise DBError("%s is not a RearGuard database (%s)" % (self.path, e)) from e
        if has:
            return
        c.executescript(
            """
            BEGIN;
            CREATE TABLE sessions (device TEXT NOT NULL, %s, firmware TEXT, board TEXT,
                crc INTEGER, size INTEGER, raw BLOB, pulled_unix_s INTEGER,
                PRIMARY KEY (device, session_id));
            CREATE TABLE events (device TEXT NOT NULL, session_id INTEGER NOT NULL,
                t_ms INTEGER, kind TEXT, level TEXT);
            CREATE INDEX events_by_session ON events (device, session_id);
            CREATE TABLE staging (device TEXT NOT NULL, session_id INTEGER NOT NULL,
                crc INTEGER, size INTEGER, raw BLOB, PRIMARY KEY (device, session_id));
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
            INSERT INTO meta VALUES ('schema', '%d');
            COMMIT;
            """ % (_COLUMNS, SCHEMA_VERSION)
        )

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

    # --- pull --------------------------------------------------------------
    def has(self, device, session_id, crc):
        row = self.conn.execute("SELECT crc FROM sessions WHERE device=? AND session_id=?",
                                (device, session_id)).fetchone()
        return row is not None and row[0] == crc

    def staged(self, device, session_id, crc, size):
        """Bytes already fetched for this session (resume), else b''."""
        row = self.conn.execute("SELECT crc, size, raw FROM staging WHERE device=? AND session_id=?",
                                (device, session_id)).fetchone()
        if row is None or row[0] != crc or row[1] != size:
            return b""
        return bytes(row[2])

    def stage(self, device, session_id, crc, size, raw):
        try:
            self.conn.execute("INSERT OR REPLACE INTO staging VALUES (?, ?, ?, ?, ?)",
                              (device, session_id, crc, size, bytes(raw)))
        except sqlite3.Error as e:
            raise DBError(_explain(e, self.path)) from e

    def commit_staged(self, device):
        """Move every complete staged session into `sessions` in one transaction.
        Returns the session ids now stored (new or already there)."""
        c = self.conn
        try:
            c.execute("BEGIN IMMEDIATE")
            stored = []
            rows = c.execute("SELECT session_id, crc, size, raw FROM staging WHERE device=?",
                             (device,)).fetchall()
            for session_id, crc, size, raw in rows:
                if len(raw) != size or not _intact(raw, crc):
                    continue  # partial: stays staged for the next pull
                if not self.has(device, session_id, crc):
                    self._insert(device, session_id, crc, raw)
                c.execute("DELETE FROM staging WHERE device=? AND session_id=?", (device, session_id))
                stored.append(session_id)
            c.execute("COMMIT")
            return stored
        except sqlite3.Error as e:
            self._rollback()
            raise DBError(_explain(e, self.path)) from e

    def _insert(self, device, session_id, crc, raw):
        summary, firmware, board, evs = sessionfile.decode(raw)
        names_ = ("device",) + sessionfile.summary_names() + ("firmware", "board", "crc", "size", "raw",
                                                         "pulled_unix_s")
        values = ((device,) + tuple(summary[n] for n in sessionfile.summary_names())
                  + (firmware, board, crc, len(raw), raw, int(time.time())))
        self.conn.execute("DELETE FROM sessions WHERE device=? AND session_id=?", (device, session_id))
        self.conn.execute("DELETE FROM events WHERE device=? AND session_id=?", (device, session_id))
        self.conn.execute("INSERT INTO sessions (%s) VALUES (%s)" % (", ".join(names_), ", ".join("?" * len(names_))),
                          values)
        self.conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)",
                              [(device, session_id, t, names.kind(k), names.level(lv)) for t, k, lv in evs])

    # --- reading -------------------------------------------------------------
    def sessions(self):
        cur = self.conn.execute("SELECT * FROM sessions ORDER BY device, session_id")
        cols = [d[0] for d in cur.description]
        return [_row(dict(zip(cols, r))) for r in cur.fetchall()]

    def find(self, session_id):
        return [s for s in self.sessions() if s["session_id"] == session_id]

    def events(self, device, session_id):
        cur = self.conn.execute("SELECT t_ms, kind, level FROM events WHERE device=? AND session_id=? "
                                "ORDER BY t_ms", (device, session_id))
        return [{"t_ms": t, "kind": k, "level": lv} for t, k, lv in cur.fetchall()]


def _intact(raw, crc):
    try:
        return sessionfile.check(raw)[1] == crc
    except sessionfile.SessionFileError:
        return False


def _row(d):
    d.pop("raw", None)
    d["recovered"] = bool(d["flags"] & sessionfile.FLAG_RECOVERED)
    d["clock_known"] = bool(d["flags"] & sessionfile.FLAG_CLOCK_KNOWN)
    return d
