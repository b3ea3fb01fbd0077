"""The simulated world the chip models sense: a straight path with a ground
plane, a runner moving backward along it, obstacles, ambient light, balance
events and a fault timeline. Ground truth for the scenario metrics.

Frames: world X points along the path in the direction of travel (the way the
rear-facing sensor looks), Y to the runner's right, Z up; the clip's device
frame (docs/design.md) coincides with it when the trunk is upright. Pitch is the
rotation about device +y: positive tilts the beam down (the trunk leaning back
into the direction of travel, as in a backward fall).

    world = World(spec, Rng(seed), board)     # spec: a validated scenario (sim.scenario)
    board.clock.add_listener(world.on_time)   # advances in fixed 5 ms steps
    world.scene(now_us, fov_deg)              # what the VL53L1X sees
    world.imu_sample(now_us, period_us)       # what the IMU feels (device frame)

The world advances lazily: from clock listeners and whenever a chip asks, in
fixed steps, so a run is the same for the same seed whatever the firmware does
between steps.
"""

import bisect
import math

from sim import machine
from sim.runner import TURN_S, BalanceEvent, Gait, profile_value, smooth_bump, smooth_bump_rate

STEP_US = 5000
BODY_HALF_WIDTH_MM = 250  # the runner's shoulders/hips either side of the clip
BODY_DEPTH_MM = 300  # from the clip (on the back) to the front of the body
TURN_BACK_S = TURN_S  # the reaction's turn-round in place takes as long as a running one
STRAY_SIGNAL = 0.3  # a fully smudged window's stray return (scene signal units)
STRAY_MM = 25.0  # ... and where it comes from: the cover glass
AMBIENT_PRESETS = {"dark": 0.0, "night": 0.0, "shade": 20.0, "overcast": 50.0, "sun": 200.0,
                   "strong_sun": 250.0}


def profile_slope(points, t_ms):
    """d/dt of profile_value in value per second (0 outside the points and on steps)."""
    for i in range(1, len(points)):
        t1, v1 = points[i]
        if t_ms < t1:
            t0, v0 = points[i - 1]
            if t_ms < t0 or t1 <= t0:
                return 0.0
            return (v1 - v0) * 1000.0 / (t1 - t0)
    return 0.0


def body_rates(pitch, roll, pitch_rate, roll_rate, yaw_rate):
    """Angular rate in the device frame (what a gyro measures) from the attitude
    angles of R = Rz(yaw) Ry(pitch) Rx(roll) and their time derivatives (deg, deg/s).
    Euler-angle rates are not body rates: at 35 deg of pitch the yaw swing of the
    gait shows on the gyro's x axis too."""
    p, r = math.radians(pitch), math.radians(roll)
    sp, cp, sr, cr = math.sin(p), math.cos(p), math.sin(r), math.cos(r)
    return (roll_rate - yaw_rate * sp,
            pitch_rate * cr + yaw_rate * sr * cp,
            -pitch_rate * sr + yaw_rate * cr * cp)


class Scene:
    """What the time-of-flight sensor sees in one measurement."""

    def __init__(self):
        self.signal = 0.0  # sum of reflectance * share of the view / (d in m)^2
        self.distance_mm = 0.0  # signal-weighted mean of the returns (targets blend)
        self.peak_reflectance = 0.0
        self.dominant = None  # obstacle id (or "ground") giving most of the signal
        self.ambient_kcps_per_spad = 0.0
        self.covered = False


class Obstacle:
    def __init__(self, spec):
        self.id = spec["id"]
        self.kind = spec["kind"]
        self.x0 = float(spec["x_mm"])
        self.y0 = float(spec.get("y_mm", 0))
        self.vx = float(spec.get("vx_mm_s", 0))
        self.vy = float(spec.get("vy_mm_s", 0))
        self.start_ms = spec.get("start_ms", 0)
        self.stop_ms = spec.get("stop_ms")
        self.path = spec.get("path")  # [[t_ms, x_mm, y_mm], ...]: waypoints instead of vx/vy
        self.ground = None  # the World's Ground: obstacles stand on it
        self.height = float(spec["height_mm"])
        self.reflectance = float(spec["reflectance"])
        self.fill = float(spec.get("fill", 1.0))
        self.radius = float(spec.get("radius_mm", 0))
        self.segment = self.kind in ("wall", "fence", "bench")  # docs/scenarios.md: solid segments
        if self.segment:
            length = float(spec.get("width_mm", spec.get("length_mm", 10000)))
            angle = math.radians(spec.get("angle_deg", 0))
            # angle 0: across the path, square to the beam; 90: along it
            self.half_dx = math.sin(angle) * length / 2
            self.half_dy = math.cos(angle) * length / 2

    def position(self, t_ms):
        if self.path is not None:
            return path_point(self.path, t_ms)
        t = t_ms
        if self.stop_ms is not None and t > self.stop_ms:
            t = self.stop_ms
        moving = t - self.start_ms if t > self.start_ms else 0
        return self.x0 + self.vx * moving / 1000.0, self.y0 + self.vy * moving / 1000.0

    def velocity(self, t_ms):
        if self.path is not None:
            return path_velocity(self.path, t_ms)
        if t_ms < self.start_ms or (self.stop_ms is not None and t_ms > self.stop_ms):
            return 0.0, 0.0
        return self.vx, self.vy

    def ray_hit(self, t_ms, ox, oy, oz, dx, dy, dz, ray_index):
        """(distance along the ray mm, cosine of the incidence) to this obstacle, or None."""
        cx, cy = self.position(t_ms)
        if self.segment:
            if self.fill < 1.0 and (ray_index * 0.618034) % 1.0 >= self.fill:
                return None  # a see-through fence: this ray passes between the slats
            ax, ay = cx - self.half_dx, cy - self.half_dy
            ex, ey = 2 * self.half_dx, 2 * self.half_dy
            den = dx * ey - dy * ex
            if abs(den) < 1e-9:
                return None
            wx, wy = ax - ox, ay - oy
            t = (wx * ey - wy * ex) / den
            u = (wx * dy - wy * dx) / den
            if t <= 0 or u < 0 or u > 1:
                return None
            # the face's normal in plan is (ey, -ex) / |e|
            cos_inc = abs(dx * ey - dy * ex) / math.hypot(ex, ey)
        else:
            px, py = ox - cx, oy - cy
            a = dx * dx + dy * dy
            if a < 1e-12:
                return None
            b = 2 * (px * dx + py * dy)
            c = px * px + py * py - self.radius * self.radius
            disc = b * b - 4 * a * c
            if disc < 0:
                return None
            t = (-b - math.sqrt(disc)) / (2 * a)
            if t <= 0:
                return None
            # the radial normal at the hit point
            cos_inc = abs((px + t * dx) * dx + (py + t * dy) * dy) / self.radius
        z = oz + t * dz
        base = self.ground.height(cx) if self.ground is not None else 0.0
        if z < base or z > base + self.height:
            return None
        return t, cos_inc

    def points(self, t_ms):
        """Plan-view points of the obstacle's outline near the path (segments sampled)."""
        cx, cy = self.position(t_ms)
        if not self.segment:
            return [(cx, cy)]
        n = 40
        return [(cx - self.half_dx + 2 * self.half_dx * i / n,
                 cy - self.half_dy + 2 * self.half_dy * i / n) for i in range(n + 1)]

    def gap_mm(self, t_ms, rx, ry, lateral_margin=0.0, heading=0.0):
        """Distance along the path (the runner's heading, deg) from the clip to this
        obstacle where it crosses the runner's body band, or None if it is not on
        the path now."""
        band = BODY_HALF_WIDTH_MM + lateral_margin
        ch, sh = _cos_sin(heading)
        best = None
        for px, py in self.points(t_ms):
            ax, ay = px - rx, py - ry
            along = ax * ch + ay * sh
            off = abs(ay * ch - ax * sh) - band
            if off > self.radius:
                continue
            depth = math.sqrt(self.radius * self.radius - off * off) if off > 0 else self.radius
            gap = along - depth
            if best is None or gap < best:
                best = gap
        return best

    def approach_mm_s(self, t_ms, heading=0.0):
        """Its own speed towards the runner along the path (+ = coming closer)."""
        vx, vy = self.velocity(t_ms)
        ch, sh = _cos_sin(heading)
        return -(vx * ch + vy * sh)

    def touches(self, t_ms, rx, ry, heading=0.0):
        gap = self.gap_mm(t_ms, rx, ry, 0.0, heading)
        if gap is None:
            return False
        # Contact: some part of it is inside the body box behind the clip.
        return gap <= 0 and gap > -(BODY_DEPTH_MM + 2 * self.radius + 200)


def _cos_sin(heading_deg):
    if heading_deg == 0.0:
        return 1.0, 0.0
    h = math.radians(heading_deg)
    return math.cos(h), math.sin(h)


def path_point(path, t_ms):
    """(x, y) along waypoints [[t_ms, x, y], ...]: linear between, held outside."""
    if t_ms <= path[0][0]:
        return float(path[0][1]), float(path[0][2])
    for i in range(1, len(path)):
        t1, x1, y1 = path[i]
        if t_ms <= t1:
            t0, x0, y0 = path[i - 1]
            u = (t_ms - t0) / (t1 - t0) if t1 > t0 else 1.0
            return x0 + (x1 - x0) * u, y0 + (y1 - y0) * u
    return float(path[-1][1]), float(path[-1][2])


def path_velocity(path, t_ms):
    for i in range(1, len(path)):
        t1, x1, y1 = path[i]
        t0, x0, y0 = path[i - 1]
        if t0 <= t_ms < t1:
            return (x1 - x0) * 1000.0 / (t1 - t0), (y1 - y0) * 1000.0 / (t1 - t0)
    return 0.0, 0.0


class Ground:
    """The path's surface: flat at z = 0, or a height profile along world x
    ([[x_mm, z_mm], ...], linear between points, level beyond the ends; two
    points at one x make a step) with optional bumps. Obstacles and the runner
    stand on it."""

    BUMP_STEP_MM = 250

    def __init__(self, spec, rng=None, extent_mm=0.0):
        self.reflectance = float(spec.get("reflectance", 0.3))
        points = [(float(x), float(z)) for x, z in spec.get("profile", [])]
        bumps = float(spec.get("bumps_mm", 0))
        if bumps > 0 and rng is not None:
            points = _with_bumps(points, bumps, rng, extent_mm, self.BUMP_STEP_MM)
        # knots: unique x, the height arriving from the left and leaving to the right
        self.xs, self.z_left, self.z_right = [], [], []
        for x, z in points:
            if self.xs and self.xs[-1] == x:
                self.z_right[-1] = z
            else:
                self.xs.append(x)
                self.z_left.append(z)
                self.z_right.append(z)
        self.flat = not points

    def height(self, x):
        if self.flat:
            return 0.0
        xs = self.xs
        if x < xs[0]:
            return self.z_left[0]
        if x >= xs[-1]:
            return self.z_right[-1]
        i = bisect.bisect_right(xs, x)  # xs[i - 1] <= x < xs[i]
        x0, x1 = xs[i - 1], xs[i]
        z0, z1 = self.z_right[i - 1], self.z_left[i]
        return z0 + (z1 - z0) * (x - x0) / (x1 - x0)

    def ray_hit(self, ox, oz, dx, dz, max_t):
        """(distance along the ray, cosine of the incidence) where a ray from
        (ox, oz) heading (dx, dz) (x along the path, z up: parts of a unit
        vector) meets the surface within max_t, or None."""
        if self.flat:
            return (oz / -dz, -dz) if dz < -1e-6 else None
        if abs(dx) < 1e-9:
            g = self.height(ox)
            return ((oz - g) / -dz, -dz) if dz < -1e-6 and oz > g else None
        xs = self.xs
        if dx > 0:
            order = range(bisect.bisect_right(xs, ox), len(xs))
            arrive, leave = self.z_left, self.z_right
        else:
            order = range(bisect.bisect_left(xs, ox) - 1, -1, -1)
            arrive, leave = self.z_right, self.z_left
        xa, za, ta = ox, self.height(ox), 0.0
        for k in list(order) + [None]:
            if k is None:  # level beyond the last knot
                xb = ox + dx * max_t
                zb = za
            else:
                xb, zb = xs[k], arrive[k]
            tb = (xb - ox) / dx
            gap_a, gap_b = oz + ta * dz - za, oz + tb * dz - zb
            if gap_b <= 0 < gap_a:
                t = ta + (tb - ta) * gap_a / (gap_a - gap_b)
                m = (zb - za) / (xb - xa)
                return t, max(0.0, (m * dx - dz) / math.sqrt(1 + m * m))
            if k is None or tb > max_t:
                return None
            z_next = leave[k]
            ray_z = oz + tb * dz
            if zb < ray_z <= z_next:  # the face of a step up
                return tb, abs(dx)
            xa, za, ta = xb, z_next, tb
        return None


def _with_bumps(points, amp, rng, extent_mm, step_mm):
    """The profile's points (steps kept) plus a smooth random undulation of
    about +-amp (standard deviation), a new value every step_mm."""
    base = Ground({"profile": [[x, z] for x, z in points]}) if points else Ground({})
    grid = {}
    level = 0.0
    x = -5000.0
    while x <= extent_mm:
        level = 0.6 * level + rng.gauss(0.0, 0.8 * amp)
        grid[x] = level
        x += step_mm

    def bump(x):
        g = -5000.0 + (x + 5000.0) // step_mm * step_mm
        z0, z1 = grid.get(g, 0.0), grid.get(g + step_mm, 0.0)
        return z0 + (z1 - z0) * (x - g) / step_mm

    out = [(x, base.height(x) + z) for x, z in grid.items() if x not in base.xs]
    for x, zl, zr in zip(base.xs, base.z_left, base.z_right):
        out.append((x, zl + bump(x)))
        out.append((x, zr + bump(x)))
    out.sort(key=lambda p: p[0])  # stable: a step keeps its left before its right
    return out


class World:
    def __init__(self, spec, rng, board=None, react=True):
        self.spec = spec
        # Separate streams: the gait must not depend on how often the firmware
        # asks the sensor for a scene (the ghost run never does).
        self.rng = rng.fork(1)
        self.gait_rng = rng.fork(2)
        self.board = board
        runner = spec["runner"]
        self.speed_profile = runner["speed"]
        self.gait = Gait(runner, self.gait_rng)  # sim/runner.py: steps, rocking, push of the ground
        self.mount_mm = float(runner.get("mount_height_mm", 1000))
        self.base_pitch = float(runner.get("pitch_deg", 0.0))
        self.pitch_profile = runner.get("pitch_profile")
        self.heading_profile = runner.get("heading_deg")  # the path's direction over time
        reaction = runner.get("reaction", {})
        self.react = react and reaction.get("enabled", True)
        self.reaction_ms = reaction.get("reaction_ms", 500)
        self.braking = float(reaction.get("braking_mm_s2", 3000))
        self.resume_ms = reaction.get("resume_ms")  # None: stays stopped
        self.turn_back = reaction.get("turn_back", False)
        self.accel = float(reaction.get("accel_mm_s2", 1500))
        ground = spec.get("ground", {})
        extent = max(v for _t, v in self.speed_profile) * spec["duration_ms"] / 1000.0 + 20000
        self.ground = Ground(ground, rng.fork(5) if ground.get("bumps_mm") else None, extent)
        self.obstacles = [Obstacle(o) for o in spec.get("obstacles", [])]
        for ob in self.obstacles:
            ob.ground = self.ground
        self.ambient = spec.get("ambient", [[0, 20.0]])
        self.balance = [BalanceEvent(b) for b in spec.get("balance", [])]
        self.faults = sorted(spec.get("faults", []), key=lambda f: f["t_ms"])
        # State
        self.t_us = 0
        self.x = float(runner.get("start_x_mm", 0))
        self.y = float(runner.get("lane_y_mm", 0))
        self.v = float(profile_value(self.speed_profile, 0))
        self.dv = 0.0  # mm/s^2 along the path
        self.braking_from_ms = None  # the runner brakes from then on (reaction model)
        self.stopped_ms = None  # ... and stood still from then on
        self.resuming = False  # ... and is getting back to the scheduled speed
        self.turn_backs = []  # start times of turn-rounds in place (the reaction's turn_back)
        self.alert_ms = None  # first obstacle alert the firmware raised
        self.felt_ms = None  # first motor buzz at or after that alert
        self.collisions = {}  # obstacle id -> t_ms of contact
        self.contact_ms = {}  # same, including later contacts after the first
        self.covered = False
        self.cover = 0.0  # a partly covered window (0..1): dims the view, adds a stray return
        self.saturation = None  # (until_ms, accel_mg, gyro_mdps)
        self.chips = {}  # "tof", "imu" -> chip model, for the fault timeline
        self.fault_index = 0
        self.fault_log = []  # (t_ms, text)
        self.truth = []  # rows for metrics and plots, every TRUTH_EVERY steps
        self.truth_every = 4
        self.steps_done = 0
        self.motor_pin = board.config.MOTOR["pin"] if board is not None else None
        self.pending_undo = []  # (t_ms, fn, text): ends of faults
        self.power_cut = False
        self.power_cut_hooks = []  # fn(): what else loses power (the flash's open files)
        self.stop_on_contact = True  # False for the ghost run that finds contact times

    # --- time ----------------------------------------------------------------------
    def on_time(self, now_us):
        if now_us >= self.t_us + STEP_US:
            self.advance(now_us)

    def advance(self, now_us):
        while self.t_us + STEP_US <= now_us:
            self.step()

    @property
    def t_ms(self):
        return self.t_us // 1000

    @property
    def ground_reflectance(self):
        return self.ground.reflectance

    @ground_reflectance.setter
    def ground_reflectance(self, value):
        self.ground.reflectance = value

    def heading(self, t_ms):
        """(direction of travel deg, its rate deg/s): the path's heading plus turn-backs."""
        h, rate = 0.0, 0.0
        if self.heading_profile is not None:
            h = profile_value(self.heading_profile, t_ms)
            rate = profile_slope(self.heading_profile, t_ms)
        for t0 in self.turn_backs:
            u = (t_ms - t0) / 1000.0 / TURN_BACK_S
            h += 180.0 * smooth_bump(u)
            rate += 180.0 * smooth_bump_rate(u, TURN_BACK_S)
        return h, rate

    def step(self):
        dt = STEP_US / 1e6
        self.t_us += STEP_US
        t = self.t_ms
        self.run_faults(t)
        self.feel_motor(t)
        v_old = self.v
        lying = self.fallen_at(t)
        if lying or (self.collisions and self.stop_on_contact):
            self.v = 0.0
        elif self.braking_from_ms is not None and t >= self.braking_from_ms:
            self.brake_and_resume(t, dt)
        else:
            self.v = float(profile_value(self.speed_profile, t))
            for ev in self.balance:
                if ev.kind == "fall" and t >= ev.t_ms:
                    # Losing balance ends the run: speed bleeds off into the fall.
                    if ev.onset_speed is None:
                        ev.onset_speed = v_old
                    u = (t - ev.t_ms) / (ev.tip_ms + ev.fall_ms)
                    self.v = ev.onset_speed * (1 - u) if u < 1 else 0.0
        self.dv = (self.v - v_old) / dt
        h = self.heading(t)[0]
        ch, sh = _cos_sin(h)
        self.x += self.v * dt * ch
        self.y += self.v * dt * sh
        self.gait.advance(dt, self.v, t)
        for ob in self.obstacles:
            # (a runner turning round on the spot runs into nothing)
            if ob.id not in self.collisions and (self.v > 0 or ob.approach_mm_s(t, h) > 0) \
                    and ob.touches(t, self.x, self.y, h):
                self.collisions[ob.id] = t
        self.steps_done += 1
        if self.steps_done % self.truth_every == 0:
            self.record_truth(t)
        if self.power_cut:
            # The board loses power: the firmware stops wherever it is and boots again.
            self.power_cut = False
            raise machine.BoardReset(machine.PWRON_RESET)

    def fallen_at(self, t_ms):
        for ev in self.balance:
            if ev.kind == "fall" and t_ms >= ev.end_ms():
                return True
        return False

    # --- the reaction model ------------------------------------------------------------
    def brake_and_resume(self, t_ms, dt):
        """Braking to a stop; with `resume_ms`, standing that long, turning round if
        `turn_back`, then back up to the scheduled speed (the next alert counts anew)."""
        if self.resuming:
            target = float(profile_value(self.speed_profile, t_ms))
            self.v = min(target, self.v + self.accel * dt)
            if self.v >= target:
                self.resuming = False
                self.braking_from_ms = self.stopped_ms = None
                self.alert_ms = self.felt_ms = None
            return
        self.v = max(0.0, self.v - self.braking * dt)
        if self.v > 0 or self.resume_ms is None:
            return
        if self.stopped_ms is None:
            self.stopped_ms = t_ms
            if self.turn_back:
                self.turn_backs.append(t_ms + max(0, self.resume_ms - TURN_BACK_S * 1000))
        elif t_ms - self.stopped_ms >= self.resume_ms:
            self.resuming = True

    def obstacle_alert(self, t_ms):
        """The firmware raised an obstacle alert (the scenario's event sink calls this)."""
        if self.alert_ms is None and self.braking_from_ms is None:
            self.alert_ms = t_ms

    def feel_motor(self, t_ms):
        # The runner reacts to a buzz, not to an event in a log: an alert the
        # motor never plays is an alert never felt.
        if not self.react or self.alert_ms is None or self.felt_ms is not None:
            return
        if self.motor_duty() > 0:
            self.felt_ms = t_ms
            self.braking_from_ms = t_ms + self.reaction_ms

    def motor_duty(self):
        if self.board is None:
            return 0
        log = self.board.pwm_log
        for i in range(len(log) - 1, -1, -1):
            if log[i][1] == self.motor_pin:
                return log[i][2]
        return 0

    # --- faults -----------------------------------------------------------------------------
    def run_faults(self, t_ms):
        while self.pending_undo and self.pending_undo[0][0] <= t_ms:
            _t, fn, text = self.pending_undo.pop(0)
            fn()
            self.fault_log.append((t_ms, text))
        while self.fault_index < len(self.faults) and self.faults[self.fault_index]["t_ms"] <= t_ms:
            fault = self.faults[self.fault_index]
            self.fault_index += 1
            self.start_fault(fault, t_ms)

    def later(self, t_ms, fn, text):
        self.pending_undo.append((t_ms, fn, text))
        self.pending_undo.sort(key=lambda item: item[0])

    def start_fault(self, fault, t_ms):
        kind = fault["kind"]
        duration = fault.get("duration_ms")
        end = t_ms + duration if duration is not None else None
        self.fault_log.append((t_ms, kind))
        chip = self.chips.get(fault.get("device", "tof"))
        if kind == "i2c_errors" and chip is not None:
            chip.fault_errno = fault.get("errno", 5)  # EIO
            chip.fault_rate = fault.get("rate", 0.2)
            if end is not None:
                self.later(end, lambda: setattr(chip, "fault_errno", 0), "i2c_errors end")
        elif kind == "unplug" and chip is not None:
            chip.set_power(False)
            if end is not None:
                self.later(end, lambda: chip.set_power(True), "replug")
        elif kind == "bus_hung" and self.board is not None:
            bus_id = fault.get("bus", self.board.config.TOF["bus"])
            bus = self.board.buses[bus_id]
            bus.hung = True
            if end is not None:
                self.later(end, lambda: setattr(bus, "hung", False), "bus released")
        elif kind == "covered":
            cover = fault.get("cover", 1.0)
            if cover >= 1.0:
                self.covered = True
            else:
                self.cover = cover
            if end is not None:
                self.later(end, self.uncover, "uncovered")
        elif kind == "imu_saturation":
            self.saturation = (end if end is not None else t_ms + 200,
                               fault.get("accel_mg", 24000.0), fault.get("gyro_mdps", 2500000.0))
        elif kind == "power_cut":
            for c in self.chips.values():
                c.power_on()
            for fn in self.power_cut_hooks:
                fn()
            self.power_cut = self.board is not None

    def uncover(self):
        self.covered = False
        self.cover = 0.0

    # --- attitude and motion --------------------------------------------------------
    @property
    def true_steps(self):
        return self.gait.true_steps

    def attitude(self, t_us):
        """(pitch, roll, yaw) deg and their rates deg/s at t_us (>= the last step).

        Every rate is the time derivative of its angle (commanded lean, gait rocking,
        balance events), so an integrated gyro agrees with gravity."""
        t_ms = t_us / 1000.0
        base, base_rate = self.base_pitch, 0.0
        if self.pitch_profile is not None:
            # A commanded lean is a rotation too: the gyro must see it, or a
            # complementary filter lags the accelerometer by the whole ramp.
            base = profile_value(self.pitch_profile, t_ms)
            base_rate = profile_slope(self.pitch_profile, t_ms)
        pitch, roll, yaw, pitch_rate, roll_rate, yaw_rate = self.gait.rocking(
            (t_us - self.t_us) / 1e6, self.v, self.dv, t_ms)
        pitch += base
        pitch_rate += base_rate
        heading, heading_rate = self.heading(t_ms)
        yaw += heading
        yaw_rate += heading_rate
        for ev in self.balance:
            p, pr = ev.pitch(t_ms)
            pitch += p
            pitch_rate += pr
            if ev.kind == "stumble":
                roll += p * 0.4
                roll_rate += pr * 0.4
        return pitch, roll, yaw, pitch_rate, roll_rate, yaw_rate

    def height_mm(self, t_ms):
        """The clip's height above the ground under the runner's feet."""
        h = self.mount_mm
        for ev in self.balance:
            if ev.kind == "fall":
                h = min(h, ev.height_mm(t_ms, self.mount_mm))
        return h

    def specific_force_world(self, t_us):
        """Accelerometer reading in world axes (mg): gravity + gait + events."""
        t_ms = t_us / 1000.0
        ax, ay, az = self.gait.force((t_us - self.t_us) / 1e6, self.v, t_ms)
        ax += self.dv / 9.80665
        for ev in self.balance:
            jx, jz = ev.jolt(t_ms)
            ax += jx
            az += jz
        ch, sh = _cos_sin(self.heading(t_ms)[0])  # along the path -> world axes
        return ax * ch - ay * sh, ax * sh + ay * ch, az

    def imu_sample(self, now_us, period_us):
        """(sample time us, (ax, ay, az mg, gx, gy, gz mdps)) in the device frame."""
        self.advance(now_us)
        t = now_us - now_us % period_us
        if t < self.t_us:
            t = self.t_us  # the world only knows the present step onwards
        pitch, roll, yaw, pr, rr, yr = self.attitude(t)
        fx, fy, fz = self.specific_force_world(t)
        ax, ay, az = world_to_device(fx, fy, fz, pitch, roll, yaw)
        wx, wy, wz = body_rates(pitch, roll, pr, rr, yr)
        gx, gy, gz = wx * 1000.0, wy * 1000.0, wz * 1000.0
        if self.saturation is not None:
            until, acc, gyr = self.saturation
            if t // 1000 < until:
                s = math.sin(2 * math.pi * 25 * t / 1e6)  # a violent 25 Hz knock
                ax += acc * s
                gz += gyr * s
            else:
                self.saturation = None
        return t, (ax, ay, az, gx, gy, gz)

    # --- what the range sensor sees ------------------------------------------------------------
    def ambient_kcps_per_spad(self, t_ms):
        a = profile_value(self.ambient, t_ms)
        return a * (1.0 + self.rng.gauss(0.0, 0.03)) if a > 0 else 0.0

    def scene(self, now_us, fov_deg, elevation_deg=0.0, azimuth_deg=0.0, fov_v_deg=None):
        """What the sensor sees through an ROI of fov_deg across (fov_v_deg high,
        default the same); the offsets aim an off-centre ROI (+ = up, right)."""
        self.advance(now_us)
        t_ms = self.t_ms
        scene = Scene()
        scene.covered = self.covered
        scene.ambient_kcps_per_spad = self.ambient_kcps_per_spad(t_ms)
        pitch, roll, yaw, _pr, _rr, _yr = self.attitude(self.t_us)
        oz = self.ground.height(self.x) + self.height_mm(t_ms)
        rays = ray_grid(fov_deg, elevation_deg, azimuth_deg, fov_v_deg)
        share = 1.0 / len(rays)
        near = [ob for ob in self.obstacles if self.plan_distance(ob, t_ms) < 9000]
        weighted = 0.0
        by_id = {}
        refl_by_id = {}
        for index, (ddx, ddy, ddz) in enumerate(rays):
            dx, dy, dz = device_to_world(ddx, ddy, ddz, pitch, roll, yaw)
            best_t, best_id, best_refl = None, None, 0.0
            hit = self.ground.ray_hit(self.x, oz, dx, dz, MAX_RAY_MM)
            if hit is not None:
                best_t, best_id = hit[0], "ground"
                # Rough ground scatters: the return falls off gently with grazing angle.
                best_refl = self.ground.reflectance * math.sqrt(hit[1])
            for ob in near:
                hit = ob.ray_hit(t_ms, self.x, self.y, oz, dx, dy, dz, index)
                if hit is not None and (best_t is None or hit[0] < best_t):
                    # A smoother face returns by Lambert's cosine.
                    best_t, best_id, best_refl = hit[0], ob.id, ob.reflectance * hit[1]
            if best_t is None or best_t > MAX_RAY_MM:
                continue
            d_m = max(best_t / 1000.0, 0.02)
            s = share * best_refl / (d_m * d_m)
            scene.signal += s
            # The sensor is calibrated on a flat target square to it: it reports
            # range along its axis, not the slant range of off-axis photons.
            weighted += s * best_t * ddx
            by_id[best_id] = by_id.get(best_id, 0.0) + s
            refl_by_id[best_id] = best_refl
        if self.cover > 0 and not self.covered:
            weighted, by_id = self.smudge(scene, weighted, by_id)
        if scene.signal > 0:
            scene.distance_mm = weighted / scene.signal
            scene.dominant = max(sorted(by_id), key=lambda k: by_id[k])
            scene.peak_reflectance = refl_by_id.get(scene.dominant, 0.0)
        return scene

    def smudge(self, scene, weighted, by_id):
        """A partly covered window: the view dimmed by the cover's share, and a
        stray return from the cover glass that blends into every reading."""
        keep = 1.0 - self.cover
        stray = STRAY_SIGNAL * self.cover
        scene.signal = scene.signal * keep + stray
        scene.ambient_kcps_per_spad *= keep
        by_id = {k: v * keep for k, v in by_id.items()}
        by_id["cover"] = stray
        return weighted * keep + stray * STRAY_MM, by_id

    def plan_distance(self, ob, t_ms):
        cx, cy = ob.position(t_ms)
        reach = math.sqrt(ob.half_dx ** 2 + ob.half_dy ** 2) if ob.segment else ob.radius
        return max(0.0, math.sqrt((cx - self.x) ** 2 + (cy - self.y) ** 2) - reach)

    # --- ground truth ------------------------------------------------------------------------
    def nearest_gap(self, t_ms, lateral_margin=0.0):
        """(gap mm, obstacle) of the nearest obstacle on the runner's path ahead, or (None, None)."""
        best = (None, None)
        heading = self.heading(t_ms)[0]
        for ob in self.obstacles:
            gap = ob.gap_mm(t_ms, self.x, self.y, lateral_margin, heading)
            if gap is not None and gap > -BODY_DEPTH_MM and (best[0] is None or gap < best[0]):
                best = (gap, ob)
        return best

    def record_truth(self, t_ms):
        pitch, _roll, _yaw, _pr, _rr, _yr = self.attitude(self.t_us)
        gap, ob = self.nearest_gap(t_ms)
        fx, fy, fz = self.specific_force_world(self.t_us)
        self.truth.append((t_ms, self.x, self.v, gap, ob.id if ob else None, pitch,
                           math.sqrt(fx * fx + fy * fy + fz * fz), self.y, self.heading(t_ms)[0]))


# --- geometry ----------------------------------------------------------------------------------
_RAYS = {}
RAY_GRID = 7  # rays per side across the ROI's field of view
MAX_RAY_MM = 12000  # returns from farther are lost in the noise


def ray_grid(fov_deg, elevation_deg=0.0, azimuth_deg=0.0, fov_v_deg=None):
    """Unit ray directions (device frame) spread over a field of view fov_deg
    across and fov_v_deg high (default: square), its centre turned up by
    `elevation_deg` and right by `azimuth_deg`."""
    fov_v = fov_deg if fov_v_deg is None else fov_v_deg
    key = (int(fov_deg * 10), int(fov_v * 10), int(elevation_deg * 10), int(azimuth_deg * 10))
    rays = _RAYS.get(key)
    if rays is None:
        rays = []
        half = math.radians(fov_deg) / 2
        half_v = math.radians(fov_v) / 2
        el0, az0 = math.radians(elevation_deg), math.radians(azimuth_deg)
        for i in range(RAY_GRID):
            az = az0 - half + 2 * half * (i + 0.5) / RAY_GRID
            for j in range(RAY_GRID):
                el = el0 - half_v + 2 * half_v * (j + 0.5) / RAY_GRID
                x, y, z = 1.0, math.tan(az), math.tan(el)
                n = math.sqrt(x * x + y * y + z * z)
                rays.append((x / n, y / n, z / n))
        _RAYS[key] = rays
    return rays


def _rotation(pitch_deg, roll_deg, yaw_deg):
    """Rows of R = Rz(yaw) Ry(pitch) Rx(roll): device -> world."""
    p, r, y = math.radians(pitch_deg), math.radians(roll_deg), math.radians(yaw_deg)
    cp, sp, cr, sr, cy, sy = math.cos(p), math.sin(p), math.cos(r), math.sin(r), math.cos(y), math.sin(y)
    return ((cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr),
            (sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr),
            (-sp, cp * sr, cp * cr))


def device_to_world(x, y, z, pitch, roll, yaw):
    m = _rotation(pitch, roll, yaw)
    return (m[0][0] * x + m[0][1] * y + m[0][2] * z,
            m[1][0] * x + m[1][1] * y + m[1][2] * z,
            m[2][0] * x + m[2][1] * y + m[2][2] * z)


def world_to_device(x, y, z, pitch, roll, yaw):
    m = _rotation(pitch, roll, yaw)
    return (m[0][0] * x + m[1][0] * y + m[2][0] * z,
            m[0][1] * x + m[1][1] * y + m[2][1] * z,
            m[0][2] * x + m[1][2] * y + m[2][2] * z)
