# When a session (a run) starts, pauses and ends: from the button and from
# the gait. SessionKeeper records; this decides.
#
#     control = SessionControl(profile, hw.button)
#     control.update(now_ms, app)     # every tick, after body.update
#     control.keep_active(app, now_ms)  # replay --active: a session from the first sample
#
# Button (drivers/button.py debounces it):
#   short press (< 1.5 s): start a session (one blip); during the fall alarm it
#       means "I am fine" and silences it; inside a session it answers with one
#       blip, so the runner can check that a run is being recorded.
#   long press (hold 1.5 s): end the session (two blips, felt while still
#       holding). A long press needs intent, so a knock while running cannot end a run.
# Automatically (times from the athlete profile):
#   running for session_start_ms (4 s) starts a session (one blip);
#   standing still for session_pause_ms (10 s) pauses it (`paused`: no steps,
#       no moving time), moving again resumes it;
#   standing still for session_end_ms (2 min) ends it (two blips).
# After a long press ends a run, running does not start a new one until the
# runner has stood still once: stopping by hand while still jogging must stick.
from time import ticks_diff

from rearguard import haptics
from rearguard.drivers.button import LONG, SHORT


class SessionControl:
    def __init__(self, profile, button):
        self.profile = profile
        self.button = button
        self.paused = False
        self.forced = False  # keep_active(): no automatic pause or end
        self._running_since = 0
        self._was_running = False
        self._still_since = 0
        self._was_moving = True  # stillness is timed from the first tick
        self._auto_blocked = False
        self._can_pause = False
        self._started = False

    def keep_active(self, app, now_ms):
        """A session from now on, without automatic pause or end (replay --active)."""
        self.forced = True
        app.session.start(now_ms)
        app.body.session_active = True

    def update(self, now_ms, app):
        session = app.session
        body = app.body
        if not self._started:
            self._started = True
            self._still_since = now_ms
            self._can_pause = hasattr(session, "pause") and hasattr(session, "resume")
        press = self.button.update(now_ms) if self.button is not None else 0
        if press == SHORT:
            if body.fallen:
                body.acknowledge()
            elif not session.active:
                self._start(now_ms, app)
            else:
                app.arbiter.request_blip(haptics.BLIP_START)
        elif press == LONG and session.active:
            self._stop(now_ms, app)
            self._auto_blocked = True
        self._follow_gait(now_ms, app, session, body)
        body.session_active = session.active

    def _follow_gait(self, now_ms, app, session, body):
        if body.running and not self._was_running:
            self._running_since = now_ms
        self._was_running = body.running
        if body.moving:
            self._was_moving = True
            if self.paused:
                self._resume(now_ms, session)
        elif self._was_moving:
            self._was_moving = False
            self._still_since = now_ms
        still_ms = 0 if body.moving else ticks_diff(now_ms, self._still_since)
        if still_ms >= self.profile.session_pause_ms:
            self._auto_blocked = False
        if not session.active:
            if (body.running and not self._auto_blocked
                    and ticks_diff(now_ms, self._running_since) >= self.profile.session_start_ms):
                self._start(now_ms, app)
            return
        if self.forced or body.fallen:
            return  # a runner lying after a fall is not "done running"
        if still_ms >= self.profile.session_end_ms:
            self._stop(now_ms, app)
        elif still_ms >= self.profile.session_pause_ms and not self.paused:
            self.paused = True
            if self._can_pause:
                session.pause(now_ms)

    def _resume(self, now_ms, session):
        self.paused = False
        if self._can_pause and session.active:
            session.resume(now_ms)

    def _start(self, now_ms, app):
        self.paused = False
        app.session.start(now_ms)
        app.arbiter.request_blip(haptics.BLIP_START)

    def _stop(self, now_ms, app):
        self.paused = False
        self.forced = False
        app.session.stop(now_ms)
        app.arbiter.request_blip(haptics.BLIP_STOP)
