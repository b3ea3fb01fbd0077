# PLACEHOLDER (lead): replaced by the balance work (issue 5). Interface:
#   BodyMonitor(profile, events); .update(now_ms, imu)
#   attributes: pitch_cdeg, roll_cdeg, steps, cadence_spm, speed_mm_s,
#   moving (bool), running (bool), stumble (True in the tick it is detected),
#   fallen (bool, until the runner moves again)


class BodyMonitor:
    def __init__(self, profile, log):
        self.pitch_cdeg = 0
        self.roll_cdeg = 0
        self.steps = 0
        self.cadence_spm = 0
        self.speed_mm_s = 0
        self.moving = False
        self.running = False
        self.stumble = False
        self.fallen = False

    def update(self, now_ms, imu):
        pass
