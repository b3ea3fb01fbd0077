"""A virtual flash filesystem for the session store: LittleFS-like semantics,
a fixed capacity in blocks, and power cuts injected at any operation.

It stands in for MicroPython's `os` (listdir, mkdir, remove, rename, stat,
statvfs) plus `open`; the virtual board hands it to the firmware's boot as
its filesystem, as main.py hands over `os` on a board (rearguard.store.Flash).

    flash = VirtualFlash(capacity_bytes=64 * 1024)
    flash.cut_after(17)          # the 17th mutating operation loses power
    ...                          # -> PowerCut raised inside the firmware
    flash.reboot()               # open files are gone; committed data stays

Semantics, as LittleFS on the ESP32: a file's new content becomes visible
atomically when it is closed (copy-on-write); a power cut before close leaves
the old content (an empty file if it was just created). Appending ("ab") is
the same: the old content plus the new bytes, visible at close. rename replaces the
target atomically. `torn=True` models a harsher filesystem instead: every
write() lands at once, so a cut leaves a prefix.
"""

import errno

DIR_MODE = 0x4000
FILE_MODE = 0x8000


class PowerCut(BaseException):
    """Power lost in the middle of a flash operation (BaseException: the
    firmware's `except Exception` must not swallow it)."""


class _File:
    def __init__(self, flash, path, data, writable):
        self.flash = flash
        self.path = path
        self.data = bytearray(data)
        self.pos = 0
        self.writable = writable
        self.closed = False
        self.generation = flash.generation

    def _live(self):
        if self.closed or self.generation != self.flash.generation:
            raise OSError(errno.EBADF)

    def read(self, n=-1):
        self._live()
        end = len(self.data) if n is None or n < 0 else min(len(self.data), self.pos + n)
        out = bytes(self.data[self.pos : end])
        self.pos = end
        return out

    def seek(self, offset, whence=0):
        self._live()
        self.pos = max(0, offset + (len(self.data) if whence == 2 else self.pos if whence == 1 else 0))
        return self.pos

    def readinto(self, buf):
        chunk = self.read(len(buf))
        buf[: len(chunk)] = chunk
        return len(chunk)

    def write(self, data):
        self._live()
        if not self.writable:
            raise OSError(errno.EBADF)
        self.flash.operation()
        self.flash.check_room(self.path, len(self.data) + len(data))
        self.data.extend(data)
        if self.flash.torn:
            self.flash.files[self.path] = bytearray(self.data)
        return len(data)

    def close(self):
        if self.closed or self.generation != self.flash.generation:
            self.closed = True
            return
        if self.writable:
            self.flash.operation()
            self.flash.check_room(self.path, len(self.data))
            self.flash.files[self.path] = bytearray(self.data)
        self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.close()
        else:
            self.closed = True  # the with-block failed: nothing is committed
        return False


class VirtualFlash:
    def __init__(self, capacity_bytes=1_441_792, block_size=4096, torn=False):
        self.block_size = block_size
        self.blocks = capacity_bytes // block_size
        self.torn = torn
        self.files = {}  # path -> committed bytes
        self.dirs = {""}
        self.generation = 0  # bumped at reboot: handles from before are dead
        self.ops = 0  # mutating operations so far
        self._cut_at = None

    # --- fault injection -------------------------------------------------
    def cut_after(self, n_ops):
        """Lose power at the n-th mutating operation from now (1 = the next)."""
        self._cut_at = self.ops + n_ops

    def operation(self):
        self.ops += 1
        if self._cut_at is not None and self.ops >= self._cut_at:
            self._cut_at = None
            self.generation += 1
            raise PowerCut("power cut at flash operation %d" % self.ops)

    def reboot(self):
        self.generation += 1

    # --- space -----------------------------------------------------------
    def _blocks_for(self, size):
        return max(1, -(-size // self.block_size))

    def used_blocks(self, except_path=None):
        # Two blocks of directory metadata, like a fresh LittleFS.
        return 2 + sum(self._blocks_for(len(d)) for p, d in self.files.items() if p != except_path)

    def check_room(self, path, size):
        if self.used_blocks(except_path=path) + self._blocks_for(size) > self.blocks:
            raise OSError(errno.ENOSPC)

    # --- the os module's API ---------------------------------------------
    def _norm(self, path):
        return path.strip("/")

    def _parent(self, path):
        return path.rpartition("/")[0]

    def mkdir(self, path):
        path = self._norm(path)
        if path in self.dirs or path in self.files:
            raise OSError(errno.EEXIST)
        if self._parent(path) not in self.dirs:
            raise OSError(errno.ENOENT)
        self.operation()
        self.dirs.add(path)

    def listdir(self, path=""):
        path = self._norm(path)
        if path not in self.dirs:
            raise OSError(errno.ENOENT)
        names = [p.rpartition("/")[2] for p in list(self.files) + list(self.dirs)
                 if p and self._parent(p) == path]
        return sorted(names)

    def stat(self, path):
        path = self._norm(path)
        if path in self.dirs:
            return (DIR_MODE, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        if path not in self.files:
            raise OSError(errno.ENOENT)
        return (FILE_MODE, 0, 0, 0, 0, 0, len(self.files[path]), 0, 0, 0)

    def statvfs(self, path=""):
        free = max(0, self.blocks - self.used_blocks())
        bs = self.block_size
        return (bs, bs, self.blocks, free, free, 0, 0, 0, 0, 255)

    def remove(self, path):
        path = self._norm(path)
        if path not in self.files:
            raise OSError(errno.ENOENT)
        self.operation()
        del self.files[path]

    def rename(self, old, new):
        old, new = self._norm(old), self._norm(new)
        if old not in self.files:
            raise OSError(errno.ENOENT)
        if self._parent(new) not in self.dirs:
            raise OSError(errno.ENOENT)
        self.operation()
        self.files[new] = self.files.pop(old)

    def open(self, path, mode="r"):
        path = self._norm(path)
        if "w" in mode or "a" in mode:
            if self._parent(path) not in self.dirs:
                raise OSError(errno.ENOENT)
            self.operation()
            old = self.files.get(path)
            if old is None:
                self.check_room(path, 0)
                self.files[path] = bytearray()  # LittleFS commits the new entry at open
            return _File(self, path, old if "a" in mode and old is not None else b"", writable=True)
        if path not in self.files:
            raise OSError(errno.ENOENT)
        return _File(self, path, self.files[path], writable=False)
