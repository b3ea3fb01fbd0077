# Parity cases for the core firmware logic: each case_* function runs under
# real MicroPython (tests/mp/mp_parity.py) and under CPython on the simulator's
# modules (tests/test_micropython_parity.py); the JSON of both results must be
# equal. A case takes `load(dotted_name)` (firmware modules, and "time" as the
# firmware sees it) and returns plain data: ints, strings, lists, dicts, bools.
# No floats (they print differently), and nothing CPython-only: this file runs
# on MicroPython too. Add a case by adding a function; another area adds its own
# tests/mp/parity_<area>.py.
#
#     def case_my_filter(load):
#         f = load("rearguard.sensing.ranging").RangeFilter(...)
#         return [f.update(t, r) for t, r in SAMPLES]


class Motor:
    """Records the motor's strength over time: [t_ms, pct], 0 = off."""

    def __init__(self):
        self.now = 0
        self.timeline = []

    def set(self, strength_pct):
        self.timeline.append([self.now, strength_pct])

    def off(self):
        self.timeline.append([self.now, 0])


class Obstacle:
    def __init__(self):
        self.level = 0
        self.ttc_ms = -1
        self.distance_mm = -1
        self.blind = False
        self.too_fast = False
        self.too_fast_notices = 0
        self.effective_range_mm = 0


class Body:
    def __init__(self):
        self.stumble = False
        self.fallen = False
        self.running = False
        self.moving = False


def case_ticks_arithmetic(load):
    time = load("time")
    period = 1 << 30
    edges = [0, 1, period // 2 - 1, period // 2, period - 1]
    out = []
    for a in edges:
        for b in edges:
            out.append(time.ticks_diff(a, b))
        for delta in (-1000, -1, 0, 1, 1000, period // 2 - 1):
            out.append(time.ticks_add(a, delta))
    return out


def case_haptics_every_pattern(load):
    time = load("time")
    haptics = load("rearguard.haptics")
    out = {}
    for pattern in range(len(haptics.PATTERNS)):
        motor = Motor()
        player = haptics.PatternPlayer(motor, 80)
        start = time.ticks_add(0, -1500)  # the tick counter wraps mid-pattern
        now = start
        player.play(pattern, now)
        held_at = finished_at = -1
        for i in range(400):
            motor.now = i * 10
            player.update(now)
            if held_at < 0 and player.held(now):
                held_at = i * 10
            if finished_at < 0 and player.finished(now):
                finished_at = i * 10
            now = time.ticks_add(now, 10)
        player.stop()
        out[haptics.NAMES[pattern]] = [motor.timeline, held_at, finished_at]
    return out


def case_arbiter_script(load):
    time = load("time")
    haptics = load("rearguard.haptics")
    events = load("rearguard.events")
    alerts = load("rearguard.alerts")
    motor = Motor()
    player = haptics.PatternPlayer(motor)
    arbiter = alerts.Arbiter(player)
    obstacle = Obstacle()
    body = Body()
    # t_ms: change applied to the world at that time
    script = {
        100: ("blind", True),
        900: ("level", events.CAUTION),
        1500: ("level", events.WARNING),
        1510: ("ttc_ms", 1800),
        2000: ("stumble", True),
        2010: ("stumble", False),
        3200: ("level", events.STOP),
        3600: ("level", events.NONE),
        3700: ("blind", False),
        3800: ("too_fast_notices", 1),
        5000: ("fallen", True),
        7000: ("fallen", False),
        7010: ("too_fast_notices", 2),
    }
    patterns = []
    now = time.ticks_add(0, -4000)
    for i in range(900):
        t = i * 10
        if t in script:
            name, value = script[t]
            setattr(obstacle if hasattr(obstacle, name) else body, name, value)
        if t == 6000:
            arbiter.request_blip(haptics.BLIP_STOP)
        motor.now = t
        pattern = arbiter.decide(now, obstacle, body)
        if not patterns or patterns[-1][1] != pattern:
            patterns.append([t, pattern])
        now = time.ticks_add(now, 10)
    return {"patterns": patterns, "motor": motor.timeline}


def case_warning_cycle(load):
    alerts = load("rearguard.alerts")
    return [alerts.Arbiter.warning_cycle_ms(ttc) for ttc in range(-100, 3000, 50)]


def case_profile_validation(load):
    profile = load("rearguard.profile")
    p = profile.Profile()
    out = []
    for name, default, lo, hi, _unit in profile.FIELDS:
        for value in (lo - 1, lo, default, hi, hi + 1):
            try:
                p.set(name, value)
                out.append([name, value, getattr(p, name)])
            except ValueError as e:
                out.append([name, value, str(e)])
    try:
        p.set("no_such_field", 1)
        out.append("accepted an unknown field")
    except KeyError:
        out.append("KeyError")
    out.append(p.version)
    out.append([list(item) for item in p.items()])
    return out


def case_events_reach_every_sink_in_order(load):
    events = load("rearguard.events")
    hub = events.Events()
    seen = []
    hub.sinks.append(lambda t, kind, level: seen.append(["first", t, kind, level]))
    hub.sinks.append(lambda t, kind, level: seen.append(["second", t, kind, level]))
    for i in range(4):
        hub.emit(1000 + i * 7, events.OBSTACLE if i % 2 else events.BLIND, i % 4)
    hub.emit(2000, events.SESSION_START)
    return seen
