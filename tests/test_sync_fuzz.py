"""Fuzzing the frame and session parsers on both sides of the link: whatever
arrives, the only outcome is a valid result or a ProtocolError - and the clip's
server answers only with well-formed frames and keeps serving."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rearguard import protocol, sessionfile
from sim.flash import VirtualFlash
from sim.pty import LoopbackDevice, record_sessions

printable = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=200)


@given(seq=st.integers(0, 9999), text=printable.filter(lambda t: t[0] != " "))
def test_frames_round_trip(seq, text):
    frame = protocol.encode_frame(seq, text)
    assert all(32 <= b <= 126 for b in frame[:-1]) and frame.endswith(b"\n")
    assert 3 not in frame  # Ctrl-C never appears in a frame
    got_seq, words = protocol.parse_frame(frame)
    assert got_seq == seq and " ".join(words) == text


@given(st.binary(max_size=700))
def test_random_lines_parse_or_raise_protocol_error(line):
    try:
        seq, words = protocol.parse_frame(line)
    except protocol.ProtocolError:
        return
    assert isinstance(seq, int) and words


@given(seq=st.integers(1, 9999), text=printable, flips=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 7)),
                                                                 min_size=1, max_size=3))
def test_bit_flips_are_caught(seq, text, flips):
    frame = bytearray(protocol.encode_frame(seq, text))
    original = bytes(frame)
    for pos, bit in flips:
        frame[pos % (len(frame) - 1)] ^= 1 << bit
    if bytes(frame) == original:
        return
    try:
        got = protocol.parse_frame(bytes(frame))
    except protocol.ProtocolError:
        return
    assert got == protocol.parse_frame(original)  # only if the flips cancelled out


SESSION = bytes(sessionfile.encode([1] + [0] * (len(sessionfile.summary_fields()) - 1),
                                   [(10, 1, 2), (20, 4, 0)], "0.1.0", "esp32_devkitc"))


@given(st.binary(max_size=2000))
def test_random_session_files_are_rejected_cleanly(blob):
    # Only a SessionFileError may come out, and anything accepted must be a
    # real session file: it encodes back to the very same bytes.
    try:
        summary, firmware, board, events = sessionfile.decode(blob)
    except sessionfile.SessionFileError:
        return
    values = [summary[name] for name in sessionfile.summary_names()]
    assert sessionfile.encode(values, events, firmware, board) == blob


_FIELD_RANGES = {"B": (0, 0xFF), "H": (0, 0xFFFF), "I": (0, 0xFFFFFFFF), "i": (-(2**31), 2**31 - 1)}


@given(summary=st.tuples(*(st.integers(*_FIELD_RANGES[f[1]]) for f in sessionfile.summary_fields())).map(list),
       events=st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 255), st.integers(0, 255)),
                       max_size=sessionfile.MAX_EVENTS))
def test_session_files_round_trip(summary, events):
    blob = bytes(sessionfile.encode(summary, events, "0.1.0", "esp32_devkitc"))
    decoded, firmware, board, got = sessionfile.decode(blob)
    assert [decoded[n] for n in sessionfile.summary_names()] == summary
    assert (firmware, board, got) == ("0.1.0", "esp32_devkitc", events)
    assert sessionfile.check(blob) == (summary[0], sessionfile.crc32(blob[:-4]))


@given(st.lists(st.tuples(st.integers(0, len(SESSION) - 1), st.integers(0, 255)), min_size=1, max_size=4))
def test_damaged_session_files_never_decode_as_something_else(edits):
    blob = bytearray(SESSION)
    for pos, value in edits:
        blob[pos] = value
    if bytes(blob) == SESSION:
        return
    with pytest.raises(sessionfile.SessionFileError):
        sessionfile.decode(bytes(blob))


@pytest.fixture(scope="module")
def device():
    flash = VirtualFlash()
    record_sessions(flash, 2)
    dev = LoopbackDevice(flash)
    yield dev
    dev.close()


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=300),
                          st.builds(lambda s, t: protocol.encode_frame(s, t), st.integers(0, 9999), printable)),
                max_size=6))
def test_the_clip_survives_anything_on_its_console(device, chunks):
    for chunk in chunks:
        device.to_device.extend(chunk)
    device.to_device.extend(b"\n")
    device.step(12)
    out = bytes(device.from_device)
    device.from_device.clear()
    device.to_device.clear()
    for line in out.split(b"\n"):
        if line:
            protocol.parse_frame(line)  # everything the clip says is a valid frame
    device.to_device.extend(protocol.encode_frame(42, "HELLO"))
    device.step(3)
    replies = [protocol.parse_frame(x) for x in bytes(device.from_device).split(b"\n") if x]
    device.from_device.clear()
    assert replies[-1][0] == 42 and replies[-1][1][0] == "OK"


class RandomDevice:
    """A port that answers every request with the same arbitrary bytes, or with
    an intact frame (right seq, right CRC) around arbitrary words."""

    def __init__(self, reply, framed):
        self.reply = reply
        self.framed = framed
        self.out = bytearray()

    in_waiting = property(lambda self: len(self.out))

    def write(self, data):
        if not self.framed:
            self.out.extend(self.reply)
            return
        body = data[1:].split(b" ")[0] + b" " + self.reply
        self.out.extend(b"@" + body + b"*" + b"%08x" % protocol.crc32(body) + b"\n")

    def flush(self):
        pass

    def read(self, n=1):
        data = bytes(self.out[:n])
        del self.out[:n]
        return data

    def close(self):
        pass


words = st.lists(st.one_of(st.sampled_from(["OK", "ERR", "end", "1", "D", "L", "proto=1", "uid=ab",
                                            "fw=1", "board=x", "1:10:deadbeef:u", "7"]),
                           st.text(min_size=1, max_size=12)), min_size=1, max_size=8)


@settings(max_examples=100, deadline=None)
@given(reply=st.one_of(st.binary(max_size=600), words.map(lambda w: " ".join(w).encode("utf-8", "replace"))),
       framed=st.booleans())
def test_the_host_survives_anything_a_device_says(reply, framed):
    from host_tools.link import DeviceLink, LinkError

    link = DeviceLink(RandomDevice(reply, framed), timeout_s=0.005, retries=1)
    for request in (link.hello, link.list_sessions, link.profile_get):
        try:
            request()
        except LinkError:
            pass
