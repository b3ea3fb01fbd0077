# The alert arbiter: one haptic pattern at a time, by the priorities of
# DESIGN.md. A higher-priority pattern starts in the same tick as the
# decision; a lower one waits until the current pattern has been held long
# enough to be recognised (haptics.PATTERNS hold_ms).
#
#     arbiter = Arbiter(player)
#     arbiter.decide(now_ms, obstacle, body)    # every tick, after sensing
from rearguard import events, haptics


class Arbiter:
    def __init__(self, player):
        self.player = player
        self.blip = haptics.OFF  # one pending one-shot (session start/stop, low battery)
        self.balance_until_done = False

    def request_blip(self, pattern):
        self.blip = pattern

    def _wanted(self, now_ms, obstacle, body):
        level = obstacle.level
        if level == events.STOP:
            return haptics.STOP
        if body.fallen:
            return haptics.FALL
        if body.stumble:
            self.balance_until_done = True
            return haptics.BALANCE
        if self.balance_until_done:
            if self.player.pattern == haptics.BALANCE and not self.player.finished(now_ms):
                return haptics.BALANCE
            self.balance_until_done = False
        if level == events.WARNING:
            return haptics.WARNING
        if level == events.CAUTION:
            return haptics.CAUTION
        if obstacle.blind:
            return haptics.BLIND
        if obstacle.too_fast:
            return haptics.TOO_FAST
        return self.blip

    def decide(self, now_ms, obstacle, body):
        wanted = self._wanted(now_ms, obstacle, body)
        player = self.player
        current = player.pattern
        if current != haptics.OFF and current < haptics.BLIP_START and player.finished(now_ms):
            current = haptics.OFF
        if wanted < current or current == haptics.OFF or player.held(now_ms):
            if wanted == haptics.OFF and current >= haptics.BLIP_START and not player.finished(now_ms):
                wanted = current  # let a blip finish
            cycle = 0
            if wanted == haptics.WARNING:
                cycle = self.warning_cycle_ms(obstacle.ttc_ms)
            player.play(wanted, now_ms, cycle)
            if wanted == self.blip and wanted != haptics.OFF:
                self.blip = haptics.OFF
        else:
            player.update(now_ms)
        return player.pattern

    @staticmethod
    def warning_cycle_ms(ttc_ms):
        # Pulse period falls from 300 ms to 160 ms as TTC falls from 2.4 s to 1.2 s.
        if ttc_ms < 0:
            return 0
        cycle = 160 + (ttc_ms - 1200) * 140 // 1200
        return 160 if cycle < 160 else 300 if cycle > 300 else cycle
