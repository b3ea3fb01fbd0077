"""`make deploy`: the mpremote commands it prints (DRY=1) and runs, what they do
to a board's filesystem, and the messages for a wrong BOARD or missing PORT."""

import hashlib
import os
import shlex
import shutil
import subprocess
import sys

import pytest
from mpremote import commands as mpremote_commands
from mpremote import main as mpremote_main

from sim.loader import ROOT, known_boards
from tools import build, deploy, micropython


def make(*args):
    proc = subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT,
                          capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def test_make_deploy_dry_prints_the_mpremote_commands():
    code, out = make("deploy", "BOARD=esp32_devkitc", "PORT=/dev/ttyUSB0", "DRY=1")
    assert code == 0, out
    lines = [line for line in out.splitlines() if line.startswith(".venv/bin/mpremote ")]
    assert [shlex.split(line)[1:4] for line in lines] == [["connect", "/dev/ttyUSB0", "resume"]] * 3
    clean, copy, reset = (shlex.split(line)[4:] for line in lines)
    assert clean == ["run", "tools/mp/device_clean.py"]
    assert copy[:3] == ["fs", "cp", "-r"] and copy[-1] == ":"
    assert sorted(copy[3:-1]) == ["build/esp32_devkitc/" + e
                                  for e in ("board.mpy", "lib", "main.py", "rearguard")]
    assert reset == ["reset"]


def parsed_by_mpremote(monkeypatch, argv):
    """[(command, parsed args)] as mpremote 1.29's own command loop reads argv, run nothing."""
    calls = []
    commands = {
        name: (lambda _state, args, name=name: calls.append((name, args)), parser)
        for name, (_handler, parser) in mpremote_main._COMMANDS.items()
    }
    monkeypatch.setattr(mpremote_main, "_COMMANDS", commands)
    monkeypatch.setattr(mpremote_main, "State", lambda: type(
        "NoBoard", (), {"transport": None, "run_repl_on_completion": lambda self: False})())
    monkeypatch.setattr(sys, "argv", ["mpremote"] + argv)
    assert mpremote_main.main() == 0
    return calls


def test_mpremote_reads_each_deploy_command_as_intended(monkeypatch, built):
    build_dir = os.path.relpath(built.out_dir, ROOT)
    clean, copy, reset = (step.argv for step in deploy.steps("esp32_devkitc", "/dev/ttyUSB0", build_dir))
    names = [[name for name, _args in parsed_by_mpremote(monkeypatch, cmd[1:])]
             for cmd in (clean, copy, reset)]
    assert names == [["connect", "resume", "run"], ["connect", "resume", "fs"],
                     ["connect", "resume", "exec"]]  # mpremote's `reset` is exec machine.reset()
    (_c, connect), _r, (_f, fs) = parsed_by_mpremote(monkeypatch, copy[1:])
    assert connect.device == ["/dev/ttyUSB0"]
    assert fs.command == ["cp"] and fs.recursive and fs.path[-1] == ":"
    assert sorted(fs.path[:-1]) == sorted(build_dir + "/" + e for e in os.listdir(built.out_dir))


def test_make_deploy_with_an_unknown_board_lists_the_boards():
    code, out = make("deploy", "BOARD=nope", "PORT=/dev/ttyUSB0", "DRY=1")
    assert code != 0
    assert "unknown BOARD 'nope'" in out
    assert all(board in out for board in known_boards())


def test_make_deploy_without_port_points_to_rearguard_devices():
    code, out = make("deploy", "BOARD=esp32_devkitc", "DRY=1")
    assert code != 0
    assert "rearguard devices" in out


class FolderBoard:
    """mpremote's transport API over a local folder standing in for the board's flash."""

    def __init__(self, root):
        self.root = root

    def _path(self, remote):
        return os.path.join(self.root, remote.lstrip("./").lstrip("/"))

    def fs_stat(self, remote):
        return os.stat(self._path(remote))

    def fs_exists(self, remote):
        return os.path.exists(self._path(remote))

    def fs_isdir(self, remote):
        return os.path.isdir(self._path(remote))

    def fs_mkdir(self, remote):
        os.mkdir(self._path(remote))  # FileExistsError, as mpremote's own transport raises

    def fs_writefile(self, remote, data, progress_callback=None):
        with open(self._path(remote), "wb") as f:
            f.write(data)

    def fs_hashfile(self, remote, algo):
        with open(self._path(remote), "rb") as f:
            return hashlib.new(algo, f.read()).digest()


class State:
    def __init__(self, transport):
        self.transport = transport

    def ensure_raw_repl(self):
        pass

    def did_action(self):
        pass


def run_fs_command(board_root, argv):
    args = mpremote_main.argparse_filesystem().parse_args(argv)
    mpremote_commands.do_filesystem(State(FolderBoard(board_root)), args)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build.build("esp32_devkitc", str(tmp_path_factory.mktemp("build")), quiet=True)


@pytest.mark.parametrize("again", [False, True], ids=["fresh board", "over an earlier deploy"])
def test_the_copy_command_lays_the_build_out_as_the_board_root(tmp_path, built, again):
    board_root = tmp_path / "flash"
    board_root.mkdir()
    (board_root / "sessions").mkdir()
    copy = deploy.steps("esp32_devkitc", "/dev/null", os.path.relpath(built.out_dir, ROOT))[1].argv
    assert copy[4:7] == ["fs", "cp", "-r"]
    argv = ["cp", "-r"] + [os.path.join(ROOT, p) for p in copy[7:-1]] + [copy[-1]]
    for _ in range(2 if again else 1):
        run_fs_command(str(board_root), argv)
    on_board = {
        os.path.relpath(os.path.join(here, name), board_root).replace(os.sep, "/")
        for here, _dirs, names in os.walk(board_root) for name in names
    }
    assert on_board == {path for path, _s, _b in built.files}


def test_device_clean_removes_only_what_a_deploy_owns():
    # Runs the on-board script under MicroPython over a flash holding the
    # firmware sources (as a developer's quick copy leaves them) and user data.
    with open(os.path.join(ROOT, deploy.DEVICE_CLEAN)) as f:
        clean = f.read()
    setup = (
        "import os\nos.mkdir('/sessions')\n"
        "open('/sessions/0001.bin', 'w').write('run')\nopen('/lib/other.py', 'w').write('')\n"
    )
    listing = (
        "import json, os\n"
        "def walk(p):\n"
        "    out = []\n"
        "    for e in os.ilistdir(p):\n"
        "        q = p.rstrip('/') + '/' + e[0]\n"
        "        out += walk(q) if e[1] & 0x4000 else [q]\n"
        "    return out\n"
        "print('MPJSON ' + json.dumps([p for p in walk('/') if p.split('/')[1] not in "
        "('tests_mp', 'tmp', 'home', 'dev', 'proc')]))\n"
    )
    result = micropython.run([setup, clean, listing]).check()
    assert "removed /rearguard" in result.stdout
    assert sorted(result.records()[0]) == ["/lib/other.py", "/sessions/0001.bin"]


def test_deploy_without_a_build_says_to_build_first(tmp_path):
    with pytest.raises(deploy.DeployError, match="make build BOARD=esp32_devkitc"):
        deploy.steps("esp32_devkitc", "/dev/ttyUSB0", os.path.relpath(tmp_path, ROOT))


def test_deploy_cli_rejects_an_unknown_board(capsys):
    assert deploy.main(["nope", "/dev/ttyUSB0", "--dry-run"]) == 2
    assert "known boards" in capsys.readouterr().err




def test_a_board_that_does_not_answer_stops_the_deploy_with_one_line(monkeypatch, built, tmp_path):
    # A pseudo-terminal nobody serves: mpremote's Ctrl-C gets no raw REPL back,
    # and its reads on a pty have no timeout of their own.
    master, slave = os.openpty()
    port = os.ttyname(slave)
    started = []
    real_popen = subprocess.Popen

    def popen(*args, **kwargs):
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(deploy.subprocess, "Popen", popen)
    monkeypatch.setattr(deploy, "COMMAND_LIMIT_S", 2)
    try:
        clean = deploy.steps("esp32_devkitc", port, os.path.relpath(built.out_dir, ROOT))[0]
        with pytest.raises(deploy.DeployError) as stopped:
            deploy.run(clean, port)
    finally:
        os.close(slave)
        os.close(master)
    message = str(stopped.value)
    assert "\n" not in message
    assert port in message and "did not answer within 2 s" in message and "removing the old build" in message
    (mpremote,) = started
    assert mpremote.returncode is not None, "mpremote was left running"
    with pytest.raises(ProcessLookupError):
        os.killpg(mpremote.pid, 0)  # its whole process group is gone


def test_make_deploy_romfs_dry_prints_the_romfs_route(monkeypatch):
    code, out = make("deploy", "BOARD=esp32_devkitc", "PORT=/dev/ttyUSB0", "DRY=1", "ROMFS=1")
    assert code == 0, out
    lines = [shlex.split(line)[4:] for line in out.splitlines() if line.startswith(".venv/bin/mpremote ")]
    assert lines == [["romfs", "query"], ["run", "tools/mp/device_clean.py"],
                     ["romfs", "--no-mpy", "deploy", "build/romfs/esp32_devkitc"],
                     ["fs", "cp", "build/esp32_devkitc/main.py", ":main.py"], ["reset"]]
    # The image's content is the build without main.py, which boots from the filesystem.
    image = os.path.join(ROOT, "build", "romfs", "esp32_devkitc")
    assert sorted(os.listdir(image)) == ["board.mpy", "lib", "rearguard"]
    for step in deploy.steps("esp32_devkitc", "/dev/ttyUSB0", romfs=True):
        names = [name for name, _args in parsed_by_mpremote(monkeypatch, step.argv[1:])]
        assert names[:2] == ["connect", "resume"] and len(names) == 3, (step, names)


def test_the_romfs_image_builds_from_the_package(tmp_path, built):
    package = deploy.romfs_tree(os.path.relpath(built.out_dir, ROOT))
    image = tmp_path / "rearguard.romfs"
    proc = subprocess.run([deploy.MPREMOTE, "romfs", "--no-mpy", "-o", str(image), "build", package],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "app.mpy" in proc.stdout and "main.py" not in proc.stdout
    assert image.stat().st_size > 0.9 * sum(
        os.path.getsize(os.path.join(d, f)) for d, _s, fs in os.walk(package) for f in fs)


@pytest.mark.skipif(not shutil.which("node"), reason="the virtual board needs Node.js")
def test_romfs_deploy_to_a_board_without_romfs_stops_with_one_line(built, capsys):
    # The virtual board's MicroPython (like the stock ESP32 images) has no ROMFS.
    from sim.mpboard.launcher import BoardProcess

    with BoardProcess("--baud", "0") as board:
        query = deploy.steps("esp32_devkitc", board.device, os.path.relpath(built.out_dir, ROOT),
                             romfs=True)[0]
        with pytest.raises(deploy.DeployError) as stopped:
            deploy.run(query, board.device)
    message = str(stopped.value)
    assert "\n" not in message and board.device in message and "no ROMFS partition" in message
