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

import math

from sim import machine
from sim.runner import BalanceEvent, Gait, profile_value

STEP_US = 5000
BODY_HALF_WIDTH_MM = 250  # the runner's shoulders/hips either side of the clip
BODY_DEPTH_MM = 300  # from the clip (on the back) to the front of the body
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
        self.height = float(spec["height_mm"])
        self.reflectance = float(spec["reflectance"])
        self.fill = float(spec.get("fill", 1.0))
        self.radius = float(spec.get("radius_mm", 0))
        self.segment = self.kind in ("wall", "fence")
        if self.segment:
            length = float(spec.get("width_mm", spec.get("length_mm", 10000)))
            angle = math.radians(spec.get("angle_deg", 0))
            # angle 0: across the path, square to the beam; 90: along it
            self.half_dx = math.sin(angle) * length / 2
            self.half_dy = math.cos(angle) * length / 2

    def position(self, t_ms):
        t = t_ms
        if self.stop_ms is not None and t > self.stop_ms:
            t = self.stop_ms
        moving = t - self.start_ms if t > self.start_ms else 0
        return self.x0 + self.vx * moving / 1000.0, self.y0 + self.vy * moving / 1000.0

    def velocity(self, t_ms):
        if t_ms < self.start_ms or (self.stop_ms is not None and t_ms > self.stop_ms):
            return 0.0, 0.0
        return self.vx, self.vy

    def ray_hit(self, t_ms, ox, oy, oz, dx, dy, dz, ray_index):
        """Distance along the ray (mm) to this obstacle, or None."""
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
        z = oz + t * dz
        if z < 0 or z > self.height:
            return None
        return t

    def points(self, t_ms):
        """Plan-view points of the obstacle's outline near the path (segments sampled)."""
        cx, cy = self.position(t_ms)
        if not self.segment:
            return [(cx, cy)]
        n = 40
        return [(cx - self.half_dx + 2 * self.half_dx * i / n,
                 cy - self.half_dy + 2 * self.half_dy * i / n) for i in range(n + 1)]

    def gap_mm(self, t_ms, rx, ry, lateral_margin=0.0):
        """Distance along the path from the clip to this obstacle where it crosses
        the runner's body band, or None if it is not on the path now."""
        band = BODY_HALF_WIDTH_MM + lateral_margin
        best = None
        for px, py in self.points(t_ms):
            off = abs(py - ry) - band
            if off > self.radius:
                continue
            depth = math.sqrt(self.radius * self.radius - off * off) if off > 0 else self.radius
            gap = px - depth - rx
            if best is None or gap < best:
                best = gap
        return best

    def touches(self, t_ms, rx, ry):
        gap = self.gap_mm(t_ms, rx, ry)
        if gap is None:
            return False
        # Contact: some part of it is inside the body box behind the clip.
        return gap <= 0 and gap > -(BODY_DEPTH_MM + 2 * self.radius + 200)


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
        reaction = runner.get("reaction", {})
        self.react = react and reaction.get("enabled", True)
        self.reaction_ms = reaction.get("reaction_ms", 500)
        self.braking = float(reaction.get("braking_mm_s2", 3000))
        self.obstacles = [Obstacle(o) for o in spec.get("obstacles", [])]
        self.ground_reflectance = float(spec.get("ground", {}).get("reflectance", 0.3))
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
        self.alert_ms = None  # first obstacle alert the firmware raised
        self.felt_ms = None  # first motor buzz at or after that alert
        self.collisions = {}  # obstacle id -> t_ms of contact
        self.contact_ms = {}  # same, including later contacts after the first
        self.covered = False
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
            self.v = max(0.0, self.v - self.braking * dt)
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
        self.x += self.v * dt
        self.gait.advance(dt, self.v, t)
        for ob in self.obstacles:
            if ob.id not in self.collisions and ob.touches(t, self.x, self.y):
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
    def obstacle_alert(self, t_ms):
        """The firmware raised an obstacle alert (the scenario's event sink calls this)."""
        if self.alert_ms is None:
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
            self.covered = True
            if end is not None:
                self.later(end, lambda: setattr(self, "covered", False), "uncovered")
        elif kind == "imu_saturation":
            self.saturation = (end if end is not None else t_ms + 200,
                               fault.get("accel_mg", 24000.0), fault.get("gyro_mdps", 2500000.0))
        elif kind == "power_cut":
            for c in self.chips.values():
                c.power_on()
            for fn in self.power_cut_hooks:
                fn()
            self.power_cut = self.board is not None

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
        for ev in self.balance:
            p, pr = ev.pitch(t_ms)
            pitch += p
            pitch_rate += pr
            if ev.kind == "stumble":
                roll += p * 0.4
                roll_rate += pr * 0.4
        return pitch, roll, yaw, pitch_rate, roll_rate, yaw_rate

    def height_mm(self, t_ms):
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
        return ax, ay, az

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

    def scene(self, now_us, fov_deg, elevation_deg=0.0, azimuth_deg=0.0):
        """What the sensor sees; the offsets aim an off-centre ROI (+ = up, right)."""
        self.advance(now_us)
        t_ms = self.t_ms
        scene = Scene()
        scene.covered = self.covered
        scene.ambient_kcps_per_spad = self.ambient_kcps_per_spad(t_ms)
        pitch, roll, yaw, _pr, _rr, _yr = self.attitude(self.t_us)
        h = self.height_mm(t_ms)
        rays = ray_grid(fov_deg, elevation_deg, azimuth_deg)
        share = 1.0 / len(rays)
        near = [ob for ob in self.obstacles if self.plan_distance(ob, t_ms) < 9000]
        weighted = 0.0
        by_id = {}
        refl_by_id = {}
        for index, (ddx, ddy, ddz) in enumerate(rays):
            dx, dy, dz = device_to_world(ddx, ddy, ddz, pitch, roll, yaw)
            best_t = None
            best_id = None
            best_refl = 0.0
            if dz < -1e-6:
                best_t = h / -dz
                best_id = "ground"
                # Rough ground scatters: the return falls off gently with grazing angle.
                best_refl = self.ground_reflectance * math.sqrt(-dz)
            for ob in near:
                t = ob.ray_hit(t_ms, self.x, self.y, h, dx, dy, dz, index)
                if t is not None and (best_t is None or t < best_t):
                    best_t, best_id, best_refl = t, ob.id, ob.reflectance
            if best_t is None or best_t > 12000:
                continue
            d_m = best_t / 1000.0
            if d_m < 0.02:
                d_m = 0.02
            s = share * best_refl / (d_m * d_m)
            scene.signal += s
            # The sensor is calibrated on a flat target square to it: it reports
            # range along its axis, not the slant range of off-axis photons.
            weighted += s * best_t * ddx
            by_id[best_id] = by_id.get(best_id, 0.0) + s
            refl_by_id[best_id] = best_refl
        if scene.signal > 0:
            scene.distance_mm = weighted / scene.signal
            scene.dominant = max(sorted(by_id), key=lambda k: by_id[k])
            scene.peak_reflectance = refl_by_id[scene.dominant]
        return scene

    def plan_distance(self, ob, t_ms):
        cx, cy = ob.position(t_ms)
        reach = math.sqrt(ob.half_dx ** 2 + ob.half_dy ** 2) if ob.segment else ob.radius
        return max(0.0, math.sqrt((cx - self.x) ** 2 + (cy - self.y) ** 2) - reach)

    # --- ground truth ------------------------------------------------------------------------
    def nearest_gap(self, t_ms, lateral_margin=0.0):
        """(gap mm, obstacle) of the nearest obstacle on the runner's path ahead, or (None, None)."""
        best = (None, None)
        for ob in self.obstacles:
            gap = ob.gap_mm(t_ms, self.x, self.y, lateral_margin)
            if gap is not None and gap > -BODY_DEPTH_MM and (best[0] is None or gap < best[0]):
                best = (gap, ob)
        return best

    def record_truth(self, t_ms):
        pitch, _roll, _yaw, _pr, _rr, _yr = self.attitude(self.t_us)
        gap, ob = self.nearest_gap(t_ms)
        fx, fy, fz = self.specific_force_world(self.t_us)
        self.truth.append((t_ms, self.x, self.v, gap, ob.id if ob else None, pitch,
                           math.sqrt(fx * fx + fy * fy + fz * fz)))


# --- geometry ----------------------------------------------------------------------------------
_RAYS = {}
RAY_GRID = 7  # rays per side across the ROI's square field of view


def ray_grid(fov_deg, elevation_deg=0.0, azimuth_deg=0.0):
    """Unit ray directions (device frame) spread over a square field of view,
    its centre turned up by `elevation_deg` and right by `azimuth_deg`."""
    key = (int(fov_deg * 10), int(elevation_deg * 10), int(azimuth_deg * 10))
    rays = _RAYS.get(key)
    if rays is None:
        rays = []
        half = math.radians(fov_deg) / 2
        el0, az0 = math.radians(elevation_deg), math.radians(azimuth_deg)
        for i in range(RAY_GRID):
            az = az0 - half + 2 * half * (i + 0.5) / RAY_GRID
            for j in range(RAY_GRID):
                el = el0 - half + 2 * half * (j + 0.5) / RAY_GRID
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
