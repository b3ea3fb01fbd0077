"""The session, store, codec and sync server code under real MicroPython (the
WebAssembly port, ESP32 module set): the same bytes as under CPython, a session
stored and served through the firmware's own code."""

import binascii

import pytest

from host_tools import track
from rearguard import protocol, sessionfile
from tools import micropython

JOB = r"""
import json
import sys
from rearguard import console, store, session, events, profile

class Part:
    # what the body and obstacle monitors report, held still
    def __init__(self, **kw):
        for k in kw:
            setattr(self, k, kw[k])

class Battery:
    def read_mv(self):
        return 3900

import os
st = store.Store(store.Flash(os))  # MicroPython's own filesystem: appends, seeks, renames
st.mount()
log = events.Events()
keeper = session.SessionKeeper(st, profile.Profile(), 'esp32_devkitc', Battery(), log)
body = Part(steps=0, cadence_spm=170, speed_mm_s=2500, moving=True,
            balance=Part(near_falls=0, near_fall_pending=False, falls=0))
ob = Part(level=0, ttc_ms=-1, distance_mm=1500, blind=False, too_fast=False, range_valid=True)
keeper.start(1000)
for t in range(1010, 61001, 10):
    if t == 1500:  # a stumble: the event, and the balance judge's count
        log.emit(t, events.STUMBLE)
        body.balance.near_fall_pending = True
    keeper.update(t, body, ob)
keeper.stop(61000)

class Link:
    def __init__(self, data):
        self.data = bytearray(data)
        self.out = bytearray()
    def read_byte(self):
        if not self.data:
            return -1
        b = self.data[0]
        self.data = self.data[1:]
        return b
    def write(self, d):
        self.out.extend(d)

class Rtc:
    def datetime(self, t=None):
        pass
class Hw:
    battery = Battery()
    board_name = 'esp32_devkitc'
    uid = 'abcd'
    rtc = Rtc()

def start_server():
    from rearguard.sync import SyncServer
    return SyncServer(link, Hw(), st, keeper, profile.Profile())

from rearguard.protocol import encode_frame  # the host's side of the bytes
sync_loaded_before = 'rearguard.sync' in sys.modules
link = Link(b'console noise\r\n' + encode_frame(4, 'HELLO 1') + encode_frame(5, 'GET 1 0'))
watch = console.HostWatch(link, start_server)
for t in range(0, 3000, 10):
    watch.poll(t)
from rearguard import protocol
p = profile.Profile()
p.set('reaction_ms', 700)
try:
    p.set('ttc_stop_ms', 3000)
    refused = ''
except ValueError as e:
    refused = e.args[0]
p.reset()
print('MPJSON ' + json.dumps({
    'refused': refused,
    'after_reset': p.reaction_ms,
    'sync_loaded_before': sync_loaded_before,
    'sync_loaded_after': 'rearguard.sync' in sys.modules,
    'frame': protocol.encode_frame(7, 'GET 12 0').decode(),
    'crc': protocol.crc32(b'rearguard'),
    'session': bytes(st.read(1)).hex(),
    'track': bytes(st.read_track(1, 0, 100000)).hex(),
    'console': bytes(link.out).decode(),
}))
"""


@pytest.fixture(scope="module")
def record():
    return micropython.run(JOB).check().records()[-1]


def test_frames_and_checksums_are_the_same_bytes_on_both_sides(record):
    assert record["frame"] == protocol.encode_frame(7, "GET 12 0").decode()
    assert record["crc"] == binascii.crc32(b"rearguard")


def test_a_session_recorded_under_micropython_decodes_on_the_host(record):
    summary, firmware, board, events = sessionfile.decode(bytes.fromhex(record["session"]))
    assert summary["session_id"] == 1 and summary["duration_ms"] == 60_000
    samples = track.samples(track.split(bytes.fromhex(record["session"] + record["track"]))[1])
    assert len(samples) == 60  # appended to MicroPython's filesystem at each checkpoint
    assert {(s.speed_mm_s, s.cadence_spm, s.range_mm) for s in samples} == {(2500, 170, 1500)}
    assert summary["stumbles"] == 1 and board == "esp32_devkitc"
    assert [k for _t, k, _lv in events] == [6, 4, 7]


def test_the_sync_server_is_loaded_only_when_a_host_talks(record):
    assert not record["sync_loaded_before"] and record["sync_loaded_after"]


def test_the_sync_server_answers_under_micropython(record):
    lines = [protocol.parse_frame(x.encode()) for x in record["console"].splitlines() if x]
    assert lines[0][0] == 4 and lines[0][1][0] == "OK" and "bat_mv=3900" in lines[0][1]
    data = b"".join(binascii.a2b_base64(w[3]) for seq, w in lines[1:] if w[0] in ("D", "L"))
    assert data == bytes.fromhex(record["session"] + record["track"])  # the file, then its track
    assert lines[-1][1][0] == "L"


def test_the_profile_keeps_its_thresholds_in_order_and_resets_under_micropython(record):
    assert record["refused"] == "ttc_warning_ms 2200 must be above ttc_stop_ms 3000"
    assert record["after_reset"] == 500
