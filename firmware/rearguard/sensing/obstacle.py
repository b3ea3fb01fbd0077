# PLACEHOLDER (lead): replaced by the obstacle work (issue 4). Interface:
#   ObstacleMonitor(profile, events); .update(now_ms, tof, new_sample, body)
#   attributes: level (events.NONE..STOP), ttc_ms, distance_mm, blind, too_fast,
#   effective_range_mm
from rearguard import events


class ObstacleMonitor:
    def __init__(self, profile, log):
        self.log = log
        self.level = events.NONE
        self.ttc_ms = -1
        self.distance_mm = -1
        self.blind = False
        self.too_fast = False
        self.effective_range_mm = 0

    def update(self, now_ms, tof, new_sample, body):
        blind = not tof.ok
        if blind and not self.blind:
            self.log.emit(now_ms, events.BLIND)
        self.blind = blind
