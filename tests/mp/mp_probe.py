# The allocation probe, run under real MicroPython: builds the real App on fake
# hardware (fake_machine + the shared chip register models, vboard.trace_player,
# fed from probe_trace.csv played in a loop on the probe's own clock) through
# rearguard.app.boot, as main.py does on a board, then measures
#   heap_after_boot_bytes: gc.mem_alloc() after the app is built, less what the
#       test harness (this module, the fakes, the trace) holds;
#   the bytes allocated by `ticks` calls of the real app.tick() with the gc
#       disabled, after a warm-up (steady state), split by the parts the tick
#       calls (each wrapped by a counting function), so the owner of an
#       allocating part sees it is theirs.
# Prints one MPJSON line, read by tools/bench_core.py and
# tests/test_micropython_alloc.py. docs/testing.md explains the figures.
#
#     tools.bench_core.probe(warmup=600, ticks=1200)   # CPython side: runs the steps
import gc
import json
from time import ticks_add, ticks_diff

import fake_machine
from vboard import trace_player

TICK_MS = 10
TRACE = "/tests_mp/probe_trace.csv"
REST = "rest of App.tick"


class Clock:
    """The probe's time: the `now` it passes to app.tick, read by the chips
    (and, as the `time` module, by the firmware's boot: ticks_ms, sleep_ms)."""

    def __init__(self, now_ms):
        self.now_ms = now_ms
        self.player = None  # the chips' trace, brought up to date while sleeping
        self._us = 0
        self._us_at_ms = now_ms

    def ms(self):
        return self.now_ms

    def ticks_ms(self):
        return self.now_ms

    def ticks_us(self):
        # Microsecond ticks for the chips, advanced by the milliseconds that
        # passed since the last call (no int above 2**30: nothing allocated).
        elapsed = ticks_diff(self.now_ms, self._us_at_ms)
        if elapsed:
            self._us = ticks_add(self._us, elapsed * 1000)
            self._us_at_ms = self.now_ms
        return self._us

    def sleep_ms(self, ms):
        self.now_ms = ticks_add(self.now_ms, ms)
        if self.player is not None:
            self.player.update()


def rig(board, clock_ms, clock_us, imu_map, with_tof=True):
    """Attach chip models where the board config says they are, fed by the
    trace in a loop as clock_ms() passes; returns their TracePlayer.
    imu_map: the firmware's parse_axes(board.IMU["axes"])."""
    with open(TRACE) as f:
        rows = trace_player.load_trace(f)
    player = trace_player.TracePlayer(rows, clock_ms, ticks_diff, loop=True)
    hw = fake_machine.hardware
    hw.wire(board.I2C)
    if with_tof:
        hw.attach_i2c(board.TOF["bus"], board.TOF["addr"], trace_player.Vl53l1x(player, clock_us))
    imu = board.IMU
    hw.attach_i2c(imu["bus"], imu["addr"], trace_player.imu_for(player, imu["chip"], imu_map, clock_us))
    return player


def _owner(app, path):
    obj = app
    for name in path.split("."):
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return obj


def _counted(fn, arity, counts, i):
    # Made once, before measuring: calling these allocates nothing itself.
    mem_alloc = gc.mem_alloc
    if arity == 1:
        def counted(a):
            before = mem_alloc()
            result = fn(a)
            counts[i] += mem_alloc() - before
            return result
    elif arity == 2:
        def counted(a, b):
            before = mem_alloc()
            result = fn(a, b)
            counts[i] += mem_alloc() - before
            return result
    elif arity == 3:
        def counted(a, b, c):
            before = mem_alloc()
            result = fn(a, b, c)
            counts[i] += mem_alloc() - before
            return result
    else:
        def counted(a, b, c, d):
            before = mem_alloc()
            result = fn(a, b, c, d)
            counts[i] += mem_alloc() - before
            return result
    return counted


def count_stages(app, stages, counts):
    """Wrap the parts App.tick calls; returns {name: (owner, method name)} of
    the wrapped ones (uncount_stages puts the parts back).
    stages: (name, owner path from the app, method, number of arguments), from
    tools/bench_core.STAGES. A part the app does not have is skipped."""
    wrapped = {}
    for i in range(len(stages)):
        name, path, method, arity = stages[i]
        owner = _owner(app, path)
        if owner is None or not hasattr(owner, method):
            continue
        setattr(owner, method, _counted(getattr(owner, method), arity, counts, i))
        wrapped[name] = (owner, method)
    return wrapped


def uncount_stages(wrapped):
    # The wrappers were instance attributes shadowing the class's methods.
    for owner, method in wrapped.values():
        delattr(owner, method)


def measure_ticks(app, clock, player, ticks, totals):
    """app.tick() `ticks` times; totals[0] += bytes allocated inside the ticks,
    totals[1] += bytes the chip models allocated while taking the samples due
    (the chips then only copy them into their registers when the drivers read)."""
    mem_alloc = gc.mem_alloc
    fake_bytes = 0
    app_bytes = 0
    now = clock.now_ms
    for _ in range(ticks):
        clock.now_ms = now
        a = mem_alloc()
        player.update()
        b = mem_alloc()
        app.tick(now)
        c = mem_alloc()
        fake_bytes += b - a
        app_bytes += c - b
        now = ticks_add(now, TICK_MS)
    totals[0] += app_bytes
    totals[1] += fake_bytes
    return now


# The probe runs as steps (tools/bench_core.probe_steps), each one runPython
# call: this port collects garbage only between two calls, after gc.collect()
# asked for it. So each step starts by reading gc.mem_alloc() into `marks`
# (label, bytes) and ends with gc.collect(); the difference between two marks is
# what the labelled step left on the heap.
_state = {}


def step_fakes(imu_map, start_ms=-5000):
    import board

    # A start a few seconds before the tick counter wraps: the probe crosses it.
    clock = Clock(ticks_add(0, start_ms))
    _state["clock"] = clock
    _state["player"] = clock.player = rig(board, clock.ms, clock.ticks_us, imu_map)


def step_boot():
    """The firmware's own boot (rearguard.app.boot) on the fakes, with its
    session store on the interpreter's filesystem, as main.py boots a board."""
    import os

    import board

    from rearguard.app import boot

    _state["app"] = boot(board, fake_machine, _state["clock"], os)


def heap_figures(marks):
    # Before the first mark: the interpreter itself, then the runner's import
    # guard (tools/micropython.py: it refuses modules the ESP32 port lacks).
    import __main__

    interpreter = __main__._mp_heap0
    parts = {"interpreter": interpreter, "import guard": marks[0][1] - interpreter}
    for i in range(len(marks) - 1):
        parts[marks[i][0]] = marks[i + 1][1] - marks[i][1]
    booted = marks[len(marks) - 1][1]
    # What a board would hold after boot: everything but the test harness.
    return booted - parts["test harness"] - parts["import guard"], parts


def step_ticks(marks, warmup, ticks, stages):
    heap_after_boot, heap_parts = heap_figures(marks)
    app = _state["app"]
    # Session checkpoints (a flash write every 30 s) and session start and end
    # are not the hot path: the store is detached, the counters still run.
    _state["store"] = app.session.store
    app.session.store = None
    clock = _state["clock"]
    player = _state["player"]
    # Warm-up: first calls may fill caches, settle filters, start the ToF ranging.
    for _ in range(warmup):
        app.tick(clock.now_ms)
        clock.now_ms = ticks_add(clock.now_ms, TICK_MS)

    counts = [0] * len(stages)
    wrapped = count_stages(app, stages, counts)
    totals = [0, 0]
    track_before = app.session.track_n
    gc.disable()
    try:
        measure_ticks(app, clock, player, ticks, totals)
    finally:
        gc.enable()

    uncount_stages(wrapped)
    app.session.store = _state["store"]
    by_stage = {}
    for i in range(len(stages)):
        if stages[i][0] in wrapped:
            by_stage[stages[i][0]] = counts[i]
    by_stage[REST] = totals[0] - sum(counts)
    hw = app.hw
    print("MPJSON " + json.dumps({
        "heap_after_boot_bytes": heap_after_boot,
        "heap_parts_bytes": heap_parts,
        "ticks": ticks,
        "alloc_bytes": totals[0],
        "fake_alloc_bytes": totals[1],
        "stage_alloc_bytes": by_stage,
        "tof_ok": hw.tof.ok,
        "tof_problem": getattr(hw.tof, "problem", ""),
        "tof_faults": getattr(hw.tof, "faults", 0),
        "imu_ok": hw.imu.ok,
        "tof_samples_fed": player.tof_seq,
        "tof_samples_read": getattr(hw.tof, "samples", -1),
        "imu_samples_fed": player.imu_seq,
        "trace_loops": player.loops,
        "motor_changes": fake_machine.hardware.pwm_changes,
        "session_active": app.session.active,
        "track_samples_measured": app.session.track_n - track_before,  # 1 Hz samples taken
    }))


class _HostLink:
    # What the sync server needs of the console; the probe sends nothing.
    def read_byte(self):
        return -1

    def write(self, data):
        pass


def step_host():
    """A host talks to the clip: the sync server is loaded and built, as
    console.HostWatch does at the first frame."""
    from rearguard.sync import SyncServer

    app = _state["app"]
    _state["server"] = SyncServer(_HostLink(), app.hw, _state["store"], app.session, app.profile)


def report_heap(marks):
    """The heap after the ticks and with the host's server, less the harness."""
    at = {}
    for label, size in marks:
        at[label] = size
    _booted, parts = heap_figures(marks)
    harness = parts["test harness"] + parts["import guard"]
    print("MPJSON " + json.dumps({
        "heap_running_bytes": at["ran"] - harness,
        "heap_with_host_bytes": at["host"] - harness,
    }))
