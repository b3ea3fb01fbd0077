"""Scenarios: wire a virtual board with chip models over a simulated world, run
the unchanged firmware on it, and score what it did against ground truth. The
format and its checking are sim/schema.py (docs/scenarios.md is the spec), the
scoring sim/scoring.py; their names are re-exported here for callers.

    spec = load("sim/scenarios/wall_2_5ms_sun.json")     # ScenarioError if malformed
    out = run(spec, seed=7, trace_path="out.csv")
    out["events"], out["metrics"]["obstacles"]
"""

import sys

from sim import power
from sim.board import VirtualBoard
from sim.chips.battery import Battery
from sim.chips.imu import make_imu
from sim.chips.rng import Rng
from sim.chips.vl53l1x import VL53L1X
from sim.schema import (  # noqa: F401  (re-exported: the scenario API)
    RANGES,
    SCENARIO_DIR,
    ScenarioError,
    _Checker,
    check,
    check_profile,
    load,
    shipped,
)
from sim.scoring import Detections, Watch, ghost_world, score
from sim.world import World


# --- wiring and running ------------------------------------------------------------------------------
class Recorder:
    """The simulator's window onto the firmware: events, the App, session summaries."""

    def __init__(self, world=None, active=False, profile=None):
        self.world = world
        self.active = active
        self.profile = profile or {}
        self.events = []  # (t_ms, kind name, level name)
        self.apps = []
        self.summaries = []

    def on_boot(self, app):
        self.apps.append(app)
        events = sys.modules["rearguard.events"]
        kinds, levels = events.KIND_NAMES, events.LEVEL_NAMES
        session_end = events.SESSION_END

        def sink(t_ms, kind, level):
            name = kinds[kind] if kind < len(kinds) else "kind_%d" % kind
            self.events.append((t_ms, name, levels[level] if 0 < level < len(levels) else None))
            if name == "obstacle" and self.world is not None:
                self.world.obstacle_alert(t_ms)
            if kind == session_end:
                self.summaries.append(session_summary(app, t_ms))

        app.events.sinks.append(sink)
        for name, value in sorted(self.profile.items()):
            app.profile.set(name, value)  # what the athlete set up over sync
        if self.active:
            # `replay --active`: the whole trace is inside a running session, with
            # automatic pause/end off.
            app.session_control.keep_active(_now_ms())

    def event_dicts(self):
        out = []
        for t, kind, level in self.events:
            e = {"t_ms": t, "kind": kind}
            if level:
                e["level"] = level
            out.append(e)
        return out

    def summary(self):
        return self.summaries[-1] if self.summaries else None


def _now_ms():
    from sim import vtime

    return vtime.ticks_ms()


def session_summary(app, t_ms):
    """The summary the firmware would store, as a dict (names from rearguard.sessionfile)."""
    names = sys.modules["rearguard.sessionfile"].summary_names()
    return dict(zip(names, app.session.summary(t_ms)))


def wire_xshut(vb, tof, pin):
    """The VL53L1X follows its XSHUT pin: every write to it, and a reset letting
    it go (the breakout's pull-up then holds it high)."""

    def written(p, level):
        if p == pin:
            tof.xshut(1 if level is None else level)
    vb.pin_listeners.append(written)


def build_board(spec, rng, world_source, imu_noise=True, tof_cls=VL53L1X, start_ms=0, flash=None):
    """A VirtualBoard with the VL53L1X, the board's IMU, battery and button wired;
    `flash` (sim.flash.VirtualFlash) holds sessions across runs, else a fresh one."""
    vb = VirtualBoard(spec["board"], start_ms=start_ms, flash=flash)
    cfg = vb.config

    def now_us():
        return vb.clock.us

    tof = tof_cls(world_source, rng.fork(2), now_us, spec.get("quirks"))
    if cfg.TOF.get("xshut") is not None:
        wire_xshut(vb, tof, cfg.TOF["xshut"])
    vb.attach_i2c(cfg.TOF["bus"], cfg.TOF["addr"], tof)
    imu = make_imu(cfg.IMU["chip"], world_source, rng.fork(3), now_us, cfg.IMU["axes"], imu_noise)
    vb.attach_i2c(cfg.IMU["bus"], cfg.IMU["addr"], imu)
    bat = spec.get("battery", {})
    cell = Battery(bat.get("capacity_mah", 400), bat.get("soc_pct", 90),
                   cfg.BATTERY["divider"], *power.board_load(vb))  # the power model's load
    vb.adc_sources[cfg.BATTERY["pin"]] = cell.adc_uv
    presses = spec.get("button", [])
    if presses:
        b = cfg.BUTTON
        idle, pressed = (1, 0) if b["active_low"] else (0, 1)

        def button_level(t_ms):
            for p in presses:
                if p["t_ms"] <= t_ms < p["t_ms"] + p.get("duration_ms", 150):
                    return pressed
            return idle
        vb.pin_inputs[b["pin"]] = button_level
    return vb, tof, imu, cell


def run(spec, seed=None, trace_path=None, plot_path=None, echo=None, flash=None, on_board=None):
    """Run a checked scenario; returns the JSON-able result (events, summary, metrics).
    The session lands in `flash` when given (sim.pty serves it afterwards);
    `on_board(vb)` sees the virtual board before it boots (`sim board` paces it)."""
    seed = spec["seed"] if seed is None else seed
    rng = Rng(seed)
    world = World(spec, rng.fork(1))
    vb, tof, imu, cell = build_board(spec, rng, world, flash=flash)
    world.board = vb
    world.motor_pin = vb.config.MOTOR["pin"]
    world.chips = {"tof": tof, "imu": imu}
    world.power_cut_hooks.append(vb.flash.reboot)  # open files lost, committed data kept
    vb.clock.add_listener(world.on_time)
    recorder = Recorder(world, profile=spec.get("profile"))
    probe = None
    if plot_path is not None:
        from sim.plot import Probe

        probe = Probe(recorder)
        vb.clock.add_listener(probe.on_time)
    detections = Detections(world, tof)
    tof.listeners.append(detections.on_sample)
    watch = Watch(recorder)
    vb.clock.add_listener(watch.on_time)
    trace = None
    if trace_path is not None:
        from sim.trace import TraceWriter

        trace = TraceWriter()
        imu.listeners.append(trace.on_imu)
        tof.listeners.append(trace.on_range)
    if on_board is not None:
        on_board(vb)
    result = vb.run(until_ms=spec["duration_ms"], on_boot=recorder.on_boot, echo=echo)
    ghost = ghost_world(spec, seed)
    metrics = score(spec, world, ghost, recorder, detections, watch)
    metrics["sim"] = {
        "ended_by": result.ended_by,
        "resets": [list(r) for r in result.resets],
        "tof_samples": len(tof.samples),
        "quirks": dict(sorted(tof.counts.items())),
        "chip_problems": tof.problems_report() + imu_problems(imu),
        "faults": [[t, text] for t, text in world.fault_log],
        "battery_soc_pct": round(cell.soc_pct, 2),
    }
    out = {
        "scenario": spec["name"],
        "seed": seed,
        "board": spec["board"],
        "events": recorder.event_dicts(),
        "summary": recorder.summary(),
        "metrics": metrics,
    }
    if trace is not None:
        trace.write(trace_path)
    if plot_path is not None:
        from sim.plot import plot_run

        plot_run(plot_path, spec, world, tof, vb, recorder, probe)
    return out


def imu_problems(imu):
    return ["IMU write to 0x%02x: %s" % (r, d.hex()) for r, d in imu.unknown_writes] + imu.problems
