"""`rearguard devices` and `--port auto`: which serial port is the clip."""

import pytest

from host_tools import cli, ports


class FakePort:
    def __init__(self, device, vid=None, pid=None, description="n/a"):
        self.device, self.vid, self.pid, self.description = device, vid, pid, description


@pytest.fixture
def plugged(monkeypatch):
    found = []
    monkeypatch.setattr(ports._list_ports, "comports", lambda: list(found))
    return found


def test_devices_marks_likely_esp32_boards(plugged, capsys):
    plugged += [FakePort("/dev/ttyS0"), FakePort("/dev/ttyUSB0", 0x10C4, 0xEA60, "CP2102"),
                FakePort("/dev/ttyACM0", 0x303A, 0x1001, "USB JTAG/serial"), FakePort("/dev/ttyACM1", 0x2341, 0x0043)]
    marked = {p["port"]: p["esp32"] for p in ports.list_ports()}
    assert marked == {"/dev/ttyS0": False, "/dev/ttyUSB0": True, "/dev/ttyACM0": True, "/dev/ttyACM1": False}
    assert cli.main(["devices"]) == 0
    assert "10C4:EA60" in capsys.readouterr().out


def test_port_auto_picks_the_one_board_or_says_what_to_do(plugged):
    with pytest.raises(ports.PortError, match="no ESP32 board found"):
        ports.resolve("auto")
    plugged.append(FakePort("/dev/ttyUSB0", 0x1A86, 0x55D4))
    assert ports.resolve("auto") == "/dev/ttyUSB0"
    plugged.append(FakePort("/dev/ttyUSB1", 0x10C4, 0xEA60))
    with pytest.raises(ports.PortError, match="pick one with --port"):
        ports.resolve("auto")
    assert ports.resolve("/dev/ttyUSB1") == "/dev/ttyUSB1"


def test_pull_without_a_board_is_a_clear_error(plugged, tmp_path, capsys):
    assert cli.main(["pull", "--db", str(tmp_path / "s.db")]) == cli.EXIT_FAIL
    assert "plug the clip in" in capsys.readouterr().err


def test_every_profile_field_has_its_meaning_for_rearguard_config():
    # The clip's table has the fields; the host's has the prose: the two stay in step.
    from host_tools import profile_help
    from rearguard import profile

    assert set(profile_help.MEANING) == {f[0] for f in profile.FIELDS}
