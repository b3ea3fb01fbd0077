# The virtual board's flash filesystem, as MicroPython sees it at "/".
# Files live in the WebAssembly instance's memory under /flash (the glue in
# board.mjs carries them across resets); the board's own modules live under
# /_board and are reachable but not listed, like frozen modules on an ESP32.
#
# Why a VFS of its own: the port's VfsPosix raises the host's errno values
# (Emscripten's: ENOENT is 44), which mpremote does not understand, so
# `mpremote fs cp` failed. Every OSError here carries MicroPython's numbers.
#
#     os.umount("/"); os.mount(FlashVfs(), "/"); os.chdir("/")
import os

# Emscripten errno -> MicroPython (Linux numbering, as on the ESP32)
_ERRNO = {
    44: 2,  # ENOENT
    2: 13,  # EACCES
    20: 17,  # EEXIST
    54: 20,  # ENOTDIR
    31: 21,  # EISDIR
    28: 22,  # EINVAL
    55: 39,  # ENOTEMPTY
    8: 9,  # EBADF
    10: 16,  # EBUSY
    51: 28,  # ENOSPC
    75: 18,  # EXDEV
}

_FLASH = "/flash"
_SUPPORT = "/_board"


def _mp_error(e):
    return OSError(_ERRNO.get(e.errno, e.errno))


class FlashVfs:
    def __init__(self):
        self._host = os.VfsPosix()
        self._cwd = "/"

    def _path(self, path):
        if not path.startswith("/"):
            path = (self._cwd.rstrip("/") + "/" + path) if path else self._cwd
        parts = []
        for part in path.split("/"):
            if part == "..":
                if parts:
                    parts.pop()
            elif part and part != ".":
                parts.append(part)
        path = "/" + "/".join(parts)
        if path == _SUPPORT or path.startswith(_SUPPORT + "/"):
            return path
        return _FLASH + (path if path != "/" else "")

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except OSError as e:
            raise _mp_error(e) from None

    def mount(self, readonly, mkfs):
        pass

    def umount(self):
        pass

    def open(self, path, mode):
        return self._call(self._host.open, self._path(path), mode)

    def ilistdir(self, path):
        # (name, type, inode, size) as the ESP32's littlefs gives it; mpremote shows the size
        host = self._path(path)
        for entry in self._call(self._host.ilistdir, host):
            size = 0
            if entry[1] == 0x8000:
                size = self._call(self._host.stat, host + "/" + entry[0])[6]
            yield (entry[0], entry[1], 0, size)

    def stat(self, path):
        return self._call(self._host.stat, self._path(path))

    def statvfs(self, path):
        # An ESP32 with 4 MB flash: about 2 MB for the filesystem, 4 KB blocks.
        return (4096, 4096, 512, 480, 480, 0, 0, 0, 0, 255)

    def mkdir(self, path):
        self._call(self._host.mkdir, self._path(path))

    def rmdir(self, path):
        self._call(self._host.rmdir, self._path(path))

    def remove(self, path):
        self._call(self._host.remove, self._path(path))

    def rename(self, old, new):
        self._call(self._host.rename, self._path(old), self._path(new))

    def chdir(self, path):
        host = self._path(path)
        st = self._call(self._host.stat, host)
        if not st[0] & 0x4000:
            raise OSError(20)  # ENOTDIR
        self._cwd = host[len(_FLASH):] or "/" if host.startswith(_FLASH) else host

    def getcwd(self):
        return self._cwd
