"""The example plots in docs/host.md, made the way a coach would make them:
a run recorded by the unchanged firmware on the virtual board, pulled by the
real `rearguard pull` code into a database, named, shown and plotted; and a
season of runs for the trend.

    .venv/bin/python -m tools.host_examples [docs/img]     # run.png, trend.png; prints `show`

Deterministic: the same images each time (the scenario has a seed, the
season is fixed).
"""

import datetime
import os
import sys
import tempfile

from host_tools import cli
from host_tools.db import SessionDB
from host_tools.link import DeviceLink
from host_tools.pull import pull
from rearguard import sessionfile
from sim import scenario
from sim.flash import VirtualFlash
from sim.pty import LoopbackDevice

UID = "240ac45a1001"
ATHLETE = "Ana"
RUN_AT = datetime.datetime(2024, 5, 14, 18, 5)  # local time: the clip's clock, set at the last pull

# Four minutes of backward running: a stumble, out of the shade into strong
# sun at a faster pace (too fast for what the sensor then sees), a hand over
# the sensor, a stop to tie a shoe (paused), then on towards a wall: the clip
# warns, then says stop, and the runner stops short; a long press ends it.
RUN = {
    "name": "coach_example",
    "description": "docs/host.md's example run",
    "duration_ms": 240_000,
    "seed": 16,
    "runner": {
        "speed": [[0, 0], [3000, 0], [6000, 2200], [60000, 2200], [64000, 2900], [104000, 2900],
                  [108000, 2000], [124000, 2000], [126000, 0], [156000, 0], [159000, 2100]],
        "cadence_spm": [[0, 160], [60000, 160], [64000, 182], [104000, 182], [108000, 150]],
        "reaction": {"enabled": True, "reaction_ms": 500, "braking_mm_s2": 3000},
    },
    "obstacles": [{"id": "wall", "kind": "wall", "x_mm": 433850, "reflectance": 0.6}],  # reached at 3:45
    "ambient": [[0, "shade"], [70000, "shade"], [72000, "sun"], [98000, "sun"], [100000, "shade"]],
    "faults": [{"kind": "covered", "t_ms": 112000, "duration_ms": 4000}],
    "balance": [{"kind": "stumble", "t_ms": 40000}],
    "button": [{"t_ms": 234000, "duration_ms": 1800}],
    "profile": {"stride_mm": 1650},
}


def example_run(db_path):
    """Record RUN on the virtual board, then pull it as `rearguard pull` does."""
    flash = VirtualFlash()
    clock = RUN_AT.astimezone(datetime.UTC)
    scenario.run(scenario.check(dict(RUN)), flash=flash, on_board=lambda vb: vb.rtc_datetime(
        (clock.year, clock.month, clock.day, 0, clock.hour, clock.minute, clock.second)))
    dev = LoopbackDevice(flash, unique_id=bytes.fromhex(UID))
    try:
        pull(DeviceLink(dev.port, timeout_s=2.0), SessionDB.open(db_path), set_clock=False)
    finally:
        dev.close()


# A season: (week, day of the week, km, alerts caution/warning/stop, stumbles);
# week 4 had no runs; two runs were recorded before the clock was ever set.
SEASON = [(0, 1, 4.2, (9, 3, 1), 1), (0, 4, 5.0, (8, 2, 1), 0), (1, 0, 5.5, (7, 2, 0), 1),
          (1, 3, 6.1, (6, 2, 1), 0), (2, 1, 6.0, (5, 1, 0), 0), (2, 5, 7.5, (6, 1, 0), 2),
          (3, 2, 6.8, (3, 1, 0), 0), (5, 0, 5.2, (4, 1, 0), 0), (5, 3, 7.0, (3, 0, 0), 1),
          (6, 1, 8.1, (2, 1, 0), 0), (6, 4, 8.0, (2, 0, 0), 0), (7, 2, 9.0, (1, 0, 0), 0),
          (None, 0, 3.0, (2, 0, 0), 0), (None, 0, 3.5, (1, 0, 0), 0)]
SEASON_START = datetime.datetime(2024, 3, 4, 7, 30)  # a Monday, local time


def season(db_path, uid="240ac45a2002"):
    """A second clip's season, as session files (summary only) through the database's own path."""
    db = SessionDB.open(db_path)
    layout = sessionfile.summary_names()
    for sid, (week, day, km, alerts, stumbles) in enumerate(SEASON, 1):
        start = SEASON_START + datetime.timedelta(weeks=week or 0, days=day)
        minutes = km * 7.5
        values = dict.fromkeys(layout, 0)
        values.update(session_id=sid, boot=1 if week is None else 2, start_uptime_ms=60_000,
                      flags=0 if week is None else sessionfile.FLAG_CLOCK_KNOWN,
                      start_unix_s=0 if week is None else int(start.timestamp()),
                      duration_ms=int(minutes * 60_000), moving_ms=int(minutes * 57_000),
                      distance_mm=int(km * 1e6), steps=int(minutes * 160), cadence_spm=160,
                      alerts_caution=alerts[0], alerts_warning=alerts[1], alerts_stop=alerts[2],
                      closest_mm=-1, min_ttc_ms=-1, stumbles=stumbles, battery_start_mv=4100,
                      battery_end_mv=3950, profile_version=1)
        blob = bytes(sessionfile.encode([values[n] for n in layout], [], "0.1.0", "esp32_devkitc"))
        db.saw_clip(uid, {"board": "esp32_devkitc", "fw": "0.1.0"})
        db.stage(uid, sid, sessionfile.check(blob)[1], len(blob), blob)
    db.commit_staged(uid)
    db.close()
    return uid


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    out = argv[0] if argv else os.path.join("docs", "img")
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "coach.db")
        example_run(db)
        other = season(db)
        for args in (["clips", "name", UID, ATHLETE], ["clips", "name", other, "Ben"],
                     ["show", "Ana/1"], ["plot", "Ana/1", "-o", os.path.join(out, "run.png")],
                     ["plot", "--trend", "--athlete", "Ben", "-o", os.path.join(out, "trend.png")]):
            status = cli.main(["--db", db] + args)
            if status:
                return status
    return 0


if __name__ == "__main__":
    sys.exit(main())
