"""Battery figures for `make bench`: the unchanged firmware on the virtual
board, its energy ledger turned into current by the power model (sim/power.py;
sources in docs/power.md).

    .venv/bin/python -m tools.bench power       # or: python -m tools.bench_power (with the table)
    figures()   # {"battery_hours_running_400mah": ..., "battery_days_standby_400mah": ..., ...}

    # the same figures for an earlier firmware (docs/power.md's "before"):
    git archive 92a9e86 firmware | tar -x -C /tmp/before
    .venv/bin/python -m tools.bench_power --firmware /tmp/before/firmware
    .venv/bin/python -m tools.bench_power --sensitivity   # the CPU estimates halved and doubled

battery_hours_running_400mah: a 400 mAh cell over the default run and over the
30-minute session (the lower of the two; the 30-minute one is skipped with
REARGUARD_BENCH_LONG=0). The states (running, standing, idle, drawer) come from
one "day" scenario: a minute of running, then standing still until the
session ends on its own, then the clip left alone (it goes to deep sleep),
each state's current measured over a window inside it.
battery_days_standby_400mah: a 400 mAh cell at the drawer's current.
"""

import contextlib
import json
import os
import sys

from sim import power, scenario

CELL_MAH = 400
LONG_ENV = "REARGUARD_BENCH_LONG"
RUNS = ("default_run.json", "long_session.json")

# One day in the life of a clip: run, stand, leave it.
DAY = {
    "name": "power_day",
    "description": "A minute of backward jogging, standing still until the session ends, then left alone.",
    "duration_ms": 900_000,
    "seed": 3,
    "runner": {"speed": [[0, 0], [2000, 0], [4000, 2200], [64000, 2200], [66000, 0]],
               "cadence_spm": 165},
    "ambient": "shade",
    "profile": {"stride_mm": 1600},
}
# State windows in the day (ms): inside each state, clear of its transitions.
WINDOWS = {"running": (20_000, 60_000), "standing": (90_000, 180_000),
           "idle": (200_000, 240_000), "drawer": (420_000, 880_000)}


SAMPLE_EVERY = 16  # ticks: one in this many has its operations counted


def firmware_ops(fn, *args, where="/firmware/"):
    """fn(*args) under CPython's opcode tracing: the bytecode operations it ran
    in the firmware's own frames (what the model's `us_per_op` is the cost of),
    or in the frames of files whose path contains `where`."""
    ops = [0]

    def trace(frame, event, _arg):
        if where not in frame.f_code.co_filename:
            return None
        frame.f_trace_opcodes = True
        if event == "opcode":
            ops[0] += 1
        return trace

    sys.settrace(trace)
    try:
        fn(*args)
    finally:
        sys.settrace(None)
    return ops[0]


@contextlib.contextmanager
def counted_ticks(samples):
    """Count the firmware's bytecode operations in one tick out of SAMPLE_EVERY
    (CPython's opcode tracing, firmware frames only): samples gets (t_ms, ops)."""
    original = scenario.Recorder.on_boot

    def on_boot(self, app):
        original(self, app)
        tick = app.tick
        seen = [0]

        def counted(now_ms):
            seen[0] += 1
            if seen[0] % SAMPLE_EVERY:
                return tick(now_ms)
            samples.append((now_ms, firmware_ops(tick, now_ms)))

        app.tick = counted

    scenario.Recorder.on_boot = on_boot
    try:
        yield
    finally:
        scenario.Recorder.on_boot = original


def run_measured(spec, marks=()):
    """Run a scenario; returns (ledger snapshots at each mark and at the end,
    the board, [(t_ms, operations)] of the counted ticks)."""
    taken = {}
    boards = []
    samples = []

    def on_board(vb):
        boards.append(vb)
        pending = sorted(marks)

        def watch(now_us):
            while pending and now_us >= pending[0] * 1000:
                taken[pending.pop(0)] = power.snapshot(vb.ledger)

        vb.clock.add_listener(watch)

    with counted_ticks(samples):
        scenario.run(spec, on_board=on_board)
    vb = boards[0]
    taken["end"] = power.snapshot(vb.ledger)
    return taken, vb, samples


def tick_ops(samples, start_ms=0, end_ms=None):
    """Mean operations per tick between two times (the model's default without samples)."""
    ops = [n for t, n in samples if t >= start_ms and (end_ms is None or t < end_ms)]
    return sum(ops) / len(ops) if ops else power.TICK_OPS


def run_average_ma(name):
    """(mA, {part: mA}, operations per tick) of a shipped scenario."""
    spec = scenario.load(os.path.join(scenario.SCENARIO_DIR, name))
    taken, vb, samples = run_measured(spec)
    ops = tick_ops(samples)
    model = power.PowerModel(vb.config, ops)
    span = taken["end"]
    return model.average_ma(span), model.breakdown_ma(span), ops


def day_states():
    """{state: (mA, {part: mA})} over the day's windows."""
    spec = scenario.check(DAY)
    marks = [t for window in WINDOWS.values() for t in window]
    taken, vb, samples = run_measured(spec, marks)
    out = {}
    for state, (start, end) in WINDOWS.items():
        ops = tick_ops(samples, start, end)
        model = power.PowerModel(vb.config, ops)
        span = power.window(taken[start], taken[end])
        out[state] = (model.average_ma(span), model.breakdown_ma(span), ops)
    return out


def figures(table=None):
    runs = RUNS if os.environ.get(LONG_ENV, "1") != "0" else RUNS[:1]
    result = {}
    hours = []
    for name in runs:
        ma, parts, ops = run_average_ma(name)
        key = name[:-len(".json")]
        result["power_%s_ma" % key] = round(ma, 2)
        hours.append(power.hours(CELL_MAH, ma))
        if table is not None:
            table.append((key, ma, parts, ops))
    result["battery_hours_running_400mah"] = round(min(hours), 1)
    for state, (ma, parts, ops) in day_states().items():
        result["power_%s_ma" % state] = round(ma, 3)
        if table is not None:
            table.append((state, ma, parts, ops))
    result["battery_days_standby_400mah"] = round(power.days(CELL_MAH, result["power_drawer_ma"]), 1)
    return result


@contextlib.contextmanager
def firmware_tree(path):
    """Run another firmware tree on the virtual board (an earlier commit's, for
    a before/after): the sim's loader reads its files instead of firmware/."""
    from sim import loader

    saved = loader.FIRMWARE, loader.FIRMWARE_LIB
    loader.FIRMWARE, loader.FIRMWARE_LIB = path, os.path.join(path, "lib")
    try:
        yield
    finally:
        loader.FIRMWARE, loader.FIRMWARE_LIB = saved


def sensitivity():
    """The running figures again with the model's two CPU estimates halved and
    doubled: (scenario, us per operation, wake ms, mA, hours)."""
    rows = []
    for name in RUNS:
        spec = scenario.load(os.path.join(scenario.SCENARIO_DIR, name))
        taken, vb, samples = run_measured(spec)
        for us_per_op in (0.5, 1.0, 2.0):
            for wake_us in (250, 500, 1000):
                model = power.PowerModel(vb.config, tick_ops(samples), us_per_op, wake_us)
                ma = model.average_ma(taken["end"])
                rows.append((name[:-len(".json")], us_per_op, wake_us / 1000, ma, power.hours(CELL_MAH, ma)))
    return rows


def main(argv):
    if argv[:1] == ["--sensitivity"]:
        for row in sensitivity():
            print("%-14s %5.2f us/op  wake %4.2f ms  %7.2f mA  %5.1f h" % row)
        return 0
    table = []
    if argv[:1] == ["--firmware"]:
        with firmware_tree(os.path.abspath(argv[1])):
            result = figures(table)
    else:
        result = figures(table)
    for name, ma, parts, ops in table:
        detail = ", ".join("%s %.3f" % (p, v) for p, v in sorted(parts.items(), key=lambda kv: -kv[1]))
        print("%-14s %8.3f mA  %7.1f h  %5.0f ops/tick  (%s)" % (
            name, ma, power.hours(CELL_MAH, ma), ops, detail))
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
