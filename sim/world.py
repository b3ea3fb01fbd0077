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
from sim.geometry import MAX_RAY_MM, body_rates, cos_sin, device_to_world, ray_grid, world_to_device
from sim.ground import Ground
from sim.obstacles import BODY_DEPTH_MM, Obstacle
from sim.runner import TURN_S, BalanceEvent, Gait, profile_value, smooth_bump, smooth_bump_rate

STEP_US = 5000
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


class Scene:
    """What the time-of-flight sensor sees in one measurement."""

    def __init__(self):
        self.signal = 0.0  # sum of reflectance * share of the view / (d in m)^2
        self.distance_mm = 0.0  # signal-weighted mean of the returns (targets blend)
        self.peak_reflectance = 0.0
        self.dominant = None  # obstacle id (or "ground") giving most of the signal
        self.ambient_kcps_per_spad = 0.0
        self.covered = False


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
        ch, sh = cos_sin(h)
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
        ch, sh = cos_sin(self.heading(t_ms)[0])  # along the path -> world axes
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
