# The clip's flash filesystem as the session store sees it: a folder of small
# files with whole-file reads and writes, rename and free space. On the board
# it is LittleFS through `os` and the builtin `open`; in the simulator a
# virtual flash (sim/flash.py) with a capacity and power cuts stands in.
#
#     fs = mount()              # board: LittleFS under /rg
#     fs.write("a.tmp", b"..."); fs.rename("a.tmp", "a"); fs.read("a")
import errno

ROOT = "/rg"


def mount(root=ROOT):
    """The flash: the simulator's if it injected one, LittleFS on an ESP32;
    OSError elsewhere (never a host computer's own disk)."""
    try:
        # The simulator injects its virtual flash under this name (VirtualBoard
        # overrides); on a board the import fails and LittleFS is used.
        import rearguard_flash

        return Flash(rearguard_flash, rearguard_flash.open, root)
    except ImportError:
        pass
    import sys

    if sys.platform != "esp32":
        raise OSError(errno.ENODEV)
    import os

    return Flash(os, open, root)


class Flash:
    def __init__(self, os, open_fn, root):
        self.os = os
        self.open = open_fn
        self.root = root
        try:
            os.mkdir(root)
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

    def write(self, name, data):
        # Not atomic by itself: the store writes to a temporary name and renames.
        with self.open(self.path(name), "wb") as f:
            f.write(data)

    def rename(self, old, new):
        self.os.rename(self.path(old), self.path(new))

    def remove(self, name):
        self.os.remove(self.path(name))

    def size(self, name):
        return self.os.stat(self.path(name))[6]

    def block_size(self):
        return self.os.statvfs(self.root)[0]

    def free_bytes(self):
        st = self.os.statvfs(self.root)
        return st[0] * st[3]
