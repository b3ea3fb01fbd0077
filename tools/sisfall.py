"""Real waist-IMU recordings for the balance work: the SisFall development split
(Sucerquia et al. 2017, four subjects, converted to the trace CSV), found next
to the project and unpacked once into a cache outside the repo.

    .venv/bin/python -m tools.sisfall        # where the data is, what is cached

Where: $REARGUARD_SISFALL, else ../shared/data/sisfall-dev next to the
repository (archives SA01.tar.xz ... with a README). Unpacked into
$REARGUARD_CACHE/sisfall-dev (default: ~/.cache/rearguard/sisfall-dev). The
project's tests never need it: whatever uses it skips with `absent_reason()`.
"""

import collections
import csv
import functools
import os
import shutil
import sys
import tarfile
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA_ENV = "REARGUARD_SISFALL"
CACHE_ENV = "REARGUARD_CACHE"
DEFAULT_DATA = os.path.join(os.path.dirname(REPO), "shared", "data", "sisfall-dev")
SUBJECTS = ("SA01", "SA02", "SA03", "SA04")

# SisFall's activity codes (the dataset's README)
ACTIVITIES = {
    "D01": "walking slowly", "D02": "walking quickly", "D03": "jogging slowly",
    "D04": "jogging quickly", "D05": "stairs up/down slowly", "D06": "stairs up/down quickly",
    "D07": "sit, get up (half-height chair)", "D08": "sit, get up (low chair)",
    "D09": "sit, get up quickly (half-height)", "D10": "sit, get up quickly (low chair)",
    "D11": "collapse into a chair", "D12": "lie down, get up slowly",
    "D13": "lie down, get up quickly", "D14": "lying: back to side and back",
    "D15": "bend at the knees, get up", "D16": "bend, tie shoes, get up",
    "D17": "into and out of a car", "D18": "stumble while walking (recovered)",
    "D19": "gentle jump", "F01": "forward slip while walking",
    "F02": "backward slip while walking", "F03": "lateral slip while walking",
    "F04": "forward trip while walking", "F05": "forward trip while jogging",
    "F06": "vertical fall (fainting)", "F07": "fainting, hands on a table",
    "F08": "forward fall getting up", "F09": "lateral fall getting up",
    "F10": "forward fall sitting down", "F11": "backward fall sitting down",
    "F12": "lateral fall sitting down", "F13": "forward fall while sitting (fainting)",
    "F14": "backward fall while sitting (fainting)",
    "F15": "lateral fall while sitting (falling asleep)",
}

Recording = collections.namedtuple("Recording", "code subject trial path")


def data_dir():
    return os.environ.get(DATA_ENV) or DEFAULT_DATA


def cache_dir():
    base = os.environ.get(CACHE_ENV) or os.path.join(os.path.expanduser("~"), ".cache",
                                                       "rearguard")
    return os.path.join(base, "sisfall-dev")


def absent_reason():
    """Why the recordings cannot be used (one line), or None when they can."""
    where = data_dir()
    missing = [s for s in SUBJECTS if not os.path.exists(os.path.join(where, s + ".tar.xz"))]
    if missing:
        return ("real recordings absent: %s has no %s (set %s to the SisFall development split)"
                % (where, ", ".join(m + ".tar.xz" for m in missing), DATA_ENV))
    return None


def unpack():
    """Unpack every subject's archive into the cache once; returns the cache directory."""
    reason = absent_reason()
    if reason:
        raise FileNotFoundError(reason)
    out = cache_dir()
    for subject in SUBJECTS:
        archive = os.path.join(data_dir(), subject + ".tar.xz")
        stamp = os.path.join(out, subject, ".unpacked")
        if os.path.exists(stamp) and os.path.getmtime(stamp) >= os.path.getmtime(archive):
            continue
        # Unpacked aside, then moved into place: a bench and a test run at the
        # same time never read a half-written file.
        scratch = tempfile.mkdtemp(prefix=".unpacking-", dir=_made(out))
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(scratch, filter="data")
            with open(os.path.join(scratch, subject, ".unpacked"), "w") as f:
                f.write(archive + "\n")
            shutil.rmtree(os.path.join(out, subject), ignore_errors=True)
            os.replace(os.path.join(scratch, subject), os.path.join(out, subject))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return out


def _made(path):
    os.makedirs(path, exist_ok=True)
    return path


def recordings(codes=None):
    """[Recording] of every trial (optionally only these activity codes), sorted."""
    root = unpack()
    found = []
    for subject in SUBJECTS:
        for name in sorted(os.listdir(os.path.join(root, subject))):
            parts = name[:-4].split("_")
            if not name.endswith(".csv") or len(parts) != 3 or parts[1] != subject:
                continue
            if codes is None or parts[0] in codes:
                found.append(Recording(parts[0], subject, parts[2],
                                       os.path.join(root, subject, name)))
    return found


def read_imu(path):
    """[(t_ms, ax, ay, az, gx, gy, gz)] of a trace CSV (IMU rows only)."""
    rows = []
    with open(path, newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for row in reader:
            if row[1]:
                rows.append(tuple(int(v) for v in row[:7]))
    return rows


@functools.lru_cache(maxsize=None)
def impact_ms(path):
    """Time of the largest |a| in a recording: a fall's impact peak."""
    best_t, best = 0, -1
    for t, ax, ay, az, _gx, _gy, _gz in read_imu(path):
        m = ax * ax + ay * ay + az * az
        if m > best:
            best_t, best = t, m
    return best_t


@functools.lru_cache(maxsize=None)
def duration_s(path):
    rows = read_imu(path)
    return (rows[-1][0] - rows[0][0]) / 1000.0 + 0.005 if rows else 0.0


def main():
    reason = absent_reason()
    if reason:
        print(reason)
        return 1
    recs = recordings()
    print("data %s, cache %s: %d recordings of %d subjects"
          % (data_dir(), cache_dir(), len(recs), len({r.subject for r in recs})))
    return 0


if __name__ == "__main__":
    sys.exit(main())
