# Session files in flash, kept so that a power cut at any instant loses at most
# the running session's last 30 s and never touches a finished session.
#
#   sNNNNNNNN.rgs  finished, not yet synced      sNNNNNNNN.syn  finished, synced
#   sNNNNNNNN.bad  failed its checksum: set aside, reported, never served
#   sNNNNNNNN.trk  the session's track (1 Hz samples), appended while it runs
#   run.ckp        checkpoint of the running session      meta  boot + next id
#   profile        the athlete profile set from the host (name value lines)
#   *.tmp          a write in progress (removed at boot)
#
# Every write goes to a .tmp name and is renamed into place (atomic on
# LittleFS). The track grows by appends instead, each committed whole when its
# file is closed (LittleFS is copy-on-write), so it costs no rewrite; the
# summary written after an append says how many of its bytes count.
# Full flash: the oldest synced sessions are deleted first (with their
# tracks); an unsynced one never is - it stays in RAM (still listed and served
# to the host) and `low_storage` is raised until there is room again.
#
# The flash is the `os` module main.py injects (LittleFS on the board) or any
# object with its file functions; the simulator's virtual flash is one.
#
#     store = open_store(os)                     # None if the flash is unusable
#     store.save(session_id, blob); store.mark_synced(session_id)
#     store.append_track(session_id, data); store.read_track(session_id, offset, n)
import errno

from micropython import const

from rearguard import sessionfile

ROOT = "/rg"
_CHECKPOINT = "run.ckp"
_META = "meta"
_PROFILE = "profile"
_MARGIN_BLOCKS = const(2)  # copy-on-write metadata and the .tmp twin while renaming
# A session's entry: [size (the file's and its track's), crc (the file's CRC-32
# trailer), synced, blob or None (RAM-only)]
_SIZE = const(0)
_CRC = const(1)
_SYNCED = const(2)
_RAM_BLOB = const(3)


class Flash:
    """Whole-file reads and writes, rename and free space in one folder.

    `fs`: the `os` module on a board (files opened with the builtin `open`),
    or an object with the same file functions and an `open` of its own."""

    def __init__(self, fs, root=ROOT):
        self.os = fs
        self.open = getattr(fs, "open", open)
        self.root = root
        try:
            fs.mkdir(root)
        except OSError as e:
            if e.args[0] != errno.EEXIST:
                raise

    def path(self, name):
        return self.root + "/" + name

    def names(self):
        return self.os.listdir(self.root)

    def read(self, name):
        with self.open(self.path(name), "rb") as f:
            return f.read()

    def write(self, name, data, mode="wb"):
        # Not atomic by itself: the store writes to a temporary name and renames.
        with self.open(self.path(name), mode) as f:
            f.write(data)

    def rename(self, old, new):
        self.os.rename(self.path(old), self.path(new))

    def remove(self, name):
        self.os.remove(self.path(name))

    def block_size(self):
        return self.os.statvfs(self.root)[0]

    def free_bytes(self):
        st = self.os.statvfs(self.root)
        return st[0] * st[3]


def _name(session_id, ext):
    return "s%08d.%s" % (session_id, ext)


def _parse_name(name):
    # "s00000012.rgs" -> (12, "rgs"); None for anything else
    if len(name) != 13 or name[0] != "s" or name[9] != "." or not name[1:9].isdigit():
        return None
    return int(name[1:9]), name[10:]


class Store:
    def __init__(self, flash):
        self.flash = flash
        self.boot = 0
        self.next_id = 1
        self.sessions = {}  # id -> [_SIZE, _CRC, _SYNCED, _RAM_BLOB]
        self.problems = []  # messages for the console and the sync handshake
        self.low_storage = False

    # --- boot --------------------------------------------------------------
    def mount(self):
        """Scan the flash: clean up, set aside corrupt files, recover an
        interrupted session. Returns the problems found (also in .problems)."""
        flash = self.flash
        names = flash.names()
        for name in names:
            if name.endswith(".tmp"):
                self._quietly(flash.remove, name)
        self._read_meta(names)
        for name in names:
            parsed = _parse_name(name)
            if parsed is None or parsed[1] not in ("rgs", "syn"):
                continue
            session_id, ext = parsed
            blob = self._checked(name, session_id)
            if blob is not None:
                self.sessions[session_id] = _entry(blob, ext == "syn")
            self.next_id = max(self.next_id, session_id + 1)
        if _CHECKPOINT in names:
            self._recover()
        for name in names:  # tracks whose session is gone (set aside, deleted)
            parsed = _parse_name(name)
            if parsed is not None and parsed[1] == "trk" and parsed[0] not in self.sessions:
                self._quietly(flash.remove, name)
        self.boot += 1
        self._write_meta()
        return self.problems

    def _read_meta(self, names):
        if _META not in names:
            return
        try:
            boot, next_id = flash_ints(self.flash.read(_META))
            self.boot, self.next_id = boot, next_id
        except (OSError, ValueError):
            self.problems.append("session counter unreadable; rebuilt from the files")

    def _checked(self, name, session_id):
        try:
            blob = self.flash.read(name)
            if sessionfile.check(blob)[0] == session_id:
                return blob
        except sessionfile.SessionFileError:
            pass
        except OSError:
            pass
        self.problems.append("session %d is corrupt; set aside as %s" % (session_id, _name(session_id, "bad")))
        self._quietly(self.flash.rename, name, _name(session_id, "bad"))
        return None

    def _recover(self):
        try:
            blob = self.flash.read(_CHECKPOINT)
            session_id = sessionfile.check(blob)[0]
        except (OSError, sessionfile.SessionFileError):
            self.problems.append("checkpoint of the interrupted session is corrupt; set aside")
            self._quietly(self.flash.rename, _CHECKPOINT, "run.bad")
            return
        self.next_id = max(self.next_id, session_id + 1)
        if session_id not in self.sessions:
            blob = sessionfile.restamp(blob, sessionfile.FLAG_RECOVERED, sessionfile.FLAG_CHECKPOINT)
            self.problems.append("session %d was interrupted; recovered from its checkpoint" % session_id)
            if not self.save(session_id, blob):
                return  # kept in RAM; the checkpoint stays until it is written
        self._quietly(self.flash.remove, _CHECKPOINT)

    def _write_meta(self):
        data = ("%d %d\n" % (self.boot, self.next_id)).encode()
        return self._write_atomic(_META, data, False)

    # --- sessions ----------------------------------------------------------
    def new_session_id(self):
        session_id = self.next_id
        self.next_id += 1
        self._write_meta()  # before the id is used: unique across reboots
        return session_id

    def checkpoint(self, blob):
        """Persist the running session's state; False if flash is full."""
        return self._write_atomic(_CHECKPOINT, blob, True)

    def save(self, session_id, blob):
        """Store a finished session. False: no room - it stays in RAM."""
        entry = _entry(blob, False)
        if self._write_atomic(_name(session_id, "rgs"), blob, True):
            self.sessions[session_id] = entry
            self._quietly(self.flash.remove, _CHECKPOINT)
            return True
        entry[_RAM_BLOB] = bytes(blob)
        self.sessions[session_id] = entry
        self.low_storage = True
        return False

    def read(self, session_id):
        """The session's verified bytes, or None if unknown or corrupt."""
        entry = self.sessions.get(session_id)
        if entry is None:
            return None
        if entry[_RAM_BLOB] is not None:
            return entry[_RAM_BLOB]
        name = _name(session_id, "syn" if entry[_SYNCED] else "rgs")
        blob = self._checked(name, session_id)
        if blob is None:
            del self.sessions[session_id]
        return blob

    def append_track(self, session_id, data):
        """Add samples to a session's track. False: no room."""
        try:
            if self._make_room(len(data)):
                self.flash.write(_name(session_id, "trk"), data, "ab")
                return True
        except OSError:
            pass
        return False

    def read_track(self, session_id, offset, n):
        with self.flash.open(self.flash.path(_name(session_id, "trk")), "rb") as f:
            f.seek(offset)
            return f.read(n)

    def listing(self):
        """[(id, size, crc, synced)] sorted by id."""
        return [(sid, e[_SIZE], e[_CRC], e[_SYNCED]) for sid, e in sorted(self.sessions.items())]

    def unsynced_count(self):
        return sum(1 for e in self.sessions.values() if not e[_SYNCED])

    def mark_synced(self, session_id):
        """The host has the session durably. False if the id is unknown."""
        entry = self.sessions.get(session_id)
        if entry is None:
            return False
        if entry[_SYNCED]:
            return True
        if entry[_RAM_BLOB] is not None:
            del self.sessions[session_id]  # RAM-only: the host's copy is the copy
        else:
            self.flash.rename(_name(session_id, "rgs"), _name(session_id, "syn"))
            entry[_SYNCED] = True
        self._flush_ram()
        return True

    def _flush_ram(self):
        # Room may have appeared (a synced session can now go): write RAM-only ones.
        for session_id, entry in sorted(self.sessions.items()):
            if entry[_RAM_BLOB] is not None:
                if self._write_atomic(_name(session_id, "rgs"), entry[_RAM_BLOB], True):
                    entry[_RAM_BLOB] = None
        self.low_storage = any(e[_RAM_BLOB] is not None for e in self.sessions.values())

    # --- the athlete profile survives reboots too ------------------------------
    def save_profile(self, profile):
        lines = ["%s %d" % item for item in profile.items()]
        lines.append("_edits %d" % profile.version)
        return self._write_atomic(_PROFILE, "\n".join(lines).encode(), True)

    def load_profile(self, profile):
        """Apply the saved profile; a bad line is reported and skipped."""
        try:
            text = self.flash.read(_PROFILE).decode()
        except (OSError, ValueError):
            return
        edits = profile.version
        for line in text.split("\n"):
            words = line.split()
            try:
                if len(words) == 2 and words[0] == "_edits":
                    edits = int(words[1])
                elif len(words) == 2:
                    profile.set(words[0], int(words[1]), False)
            except (KeyError, ValueError):
                self.problems.append("profile value %s ignored" % line[:40])
        if profile.disorder():  # only a hand-edited file: the clip never saves one
            profile.reset()
            self.problems.append("profile thresholds out of order; defaults used")
        profile.version = edits

    def free_bytes(self):
        try:
            return self.flash.free_bytes()
        except OSError:
            return 0

    # --- space and atomic writes -------------------------------------------
    def _make_room(self, size):
        block = self.flash.block_size()
        need = (-(-size // block) + _MARGIN_BLOCKS) * block
        while self.free_bytes() < need:
            oldest = None
            for session_id, entry in sorted(self.sessions.items()):
                if entry[_SYNCED] and entry[_RAM_BLOB] is None:
                    oldest = session_id
                    break
            if oldest is None:
                return False
            self._quietly(self.flash.remove, _name(oldest, "syn"))
            self._quietly(self.flash.remove, _name(oldest, "trk"))
            del self.sessions[oldest]
        return True

    def _write_atomic(self, name, data, may_delete):
        tmp = name + ".tmp" if not name.endswith(".ckp") else "run.tmp"
        if may_delete and not self._make_room(len(data)):
            return False
        try:
            self.flash.write(tmp, data)
            self.flash.rename(tmp, name)
            return True
        except OSError:
            self._quietly(self.flash.remove, tmp)
            return False

    def _quietly(self, fn, *args):
        try:
            fn(*args)
        except OSError:
            pass


def _entry(blob, synced):
    return [len(blob) + sessionfile.track_size(blob), sessionfile.check(blob)[1], synced, None]


def flash_ints(data):
    words = data.decode().split()
    if len(words) != 2:
        raise ValueError("meta")
    return int(words[0]), int(words[1])


def open_store(fs):
    """Mount the session store at boot on `fs` (see Flash); problems are
    printed for the developer. None if the flash itself is unusable (the clip
    still protects the runner)."""
    if fs is None:
        print("rearguard: no flash filesystem; sessions are not kept")
        return None
    try:
        store = Store(Flash(fs))
        for problem in store.mount():
            print("rearguard: " + problem)
        return store
    except OSError as e:
        print("rearguard: session storage unusable (%s); sessions are not kept" % e)
        return None
