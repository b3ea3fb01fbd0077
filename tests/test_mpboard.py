"""The virtual serial board (sim/mpboard): real MicroPython behind a pseudo-
terminal behaves like a freshly flashed ESP32 for mpremote and for a developer
at the REPL: files copy and persist, resets run boot.py/main.py, Ctrl-C stops
a running program, the chips answer on I2C with the trace's values."""

import fcntl
import os
import random
import re
import select
import shutil
import subprocess
import sys
import termios
import time

import pytest
from mpremote.transport_serial import SerialTransport

from sim.mpboard import demo_trace
from sim.mpboard.launcher import BoardProcess

MPREMOTE = os.path.join(os.path.dirname(sys.executable), "mpremote")

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="the virtual board needs Node.js")

LOOPING_MAIN = b"""import time
print("main: running")
ticks = 0
while True:
    ticks += 1
    time.sleep_ms(10)
"""


def mpremote(device, *args, timeout=20, cwd=None):
    proc = subprocess.run([MPREMOTE, "connect", device, *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)
    return proc.returncode, proc.stdout + proc.stderr


def run_on(device, code):
    rc, out = mpremote(device, "exec", code)
    assert rc == 0, out
    return out.strip()


@pytest.fixture(scope="module")
def trace(tmp_path_factory):
    path = tmp_path_factory.mktemp("mpboard") / "run.csv"
    demo_trace.write(str(path))
    return path


@pytest.fixture(scope="module")
def board(trace):
    with BoardProcess("--trace", trace, "--baud", "0") as b:
        yield b


def test_mpremote_copies_lists_and_removes_files(board, tmp_path):
    src = tmp_path / "note.txt"
    src.write_bytes(b"x" * 700)
    rc, out = mpremote(board.device, "fs", "mkdir", ":notes", "+", "fs", "cp", str(src), ":notes/a.txt",
                       "+", "fs", "ls", ":notes")
    assert rc == 0, out
    assert "700 a.txt" in out
    assert run_on(board.device, "print(len(open('notes/a.txt').read()))") == "700"
    # errors come back with MicroPython's errno, which mpremote understands
    rc, out = mpremote(board.device, "fs", "cat", ":notes/missing.txt")
    assert rc != 0 and "No such file" in out
    rc, out = mpremote(board.device, "fs", "rm", "-r", ":notes")
    assert rc == 0, out
    assert "notes" not in run_on(board.device, "import os; print(os.listdir())")


def test_files_survive_a_soft_reset_and_ram_does_not(board):
    run_on(board.device, "open('keep.txt','w').write('kept'); import builtins; builtins.marker = 1")
    # mpremote soft-resets the board before each exec
    out = run_on(board.device, "import builtins; print(open('keep.txt').read(), hasattr(builtins, 'marker'))")
    assert out == "kept False"
    mpremote(board.device, "fs", "rm", ":keep.txt")


def test_reset_boots_main_py_and_ctrl_c_stops_it(board, tmp_path):
    main = tmp_path / "main.py"
    main.write_bytes(LOOPING_MAIN)
    rc, out = mpremote(board.device, "fs", "cp", str(main), ":main.py", "+", "reset")
    assert rc == 0, out
    time.sleep(0.5)
    try:
        # `resume`: no soft reset, so main.py's globals show it ran until mpremote's
        # Ctrl-C (at least one tick: a loaded machine may still be booting it)
        assert int(run_on_resumed(board.device, "print(ticks)")) >= 1
        # and that it stopped: the count no longer moves
        first = run_on_resumed(board.device, "print(ticks)")
        time.sleep(0.2)
        assert run_on_resumed(board.device, "print(ticks)") == first
    finally:
        mpremote(board.device, "fs", "rm", ":main.py")


def run_on_resumed(device, code):
    rc, out = mpremote(device, "resume", "exec", code)
    assert rc == 0, out
    return out.strip()


def test_the_chips_answer_on_i2c_with_the_board_wiring(board):
    out = run_on(board.device, """
import machine
i2c = machine.I2C(0, scl=machine.Pin(22), sda=machine.Pin(21))
print(i2c.scan(), i2c.readfrom_mem(0x29, 0x010F, 3, addrsize=16).hex(), i2c.readfrom_mem(0x68, 0x75, 1).hex())
try:
    i2c.readfrom_mem(0x50, 0, 1)
except OSError as e:
    print('errno', e.errno)
machine.Pin(25, machine.Pin.OUT, value=0)   # XSHUT low: the VL53L1X powers down
print(i2c.scan())
""")
    assert out.split("\n") == ["[41, 104] eacc10 68", "errno 19", "[104]"]


def test_the_imu_reads_the_trace_in_the_boards_chip_axes(board):
    # esp32_devkitc: device x = chip +z, y = chip +x, z = chip +y. Standing still
    # at the start of the demo trace: about +1000 mg on device z, so chip y.
    out = run_on(board.device, """
import machine, struct, time
i2c = machine.I2C(0)
i2c.writeto_mem(0x68, 0x6B, b'\\x00')        # wake up
print(i2c.readfrom_mem(0x68, 0x3B, 6) == bytes(6))   # gyro start-up: 30 ms without data
time.sleep_ms(50)
raw = struct.unpack('>hhh', i2c.readfrom_mem(0x68, 0x3B, 6))
print(*[r * 1000 // 16384 for r in raw])
""")
    started, values = out.split("\n")
    chip_x, chip_y, chip_z = (int(v) for v in values.split())
    assert started == "True"
    assert abs(chip_y - 1000) < 20 and abs(chip_x) < 20 and abs(chip_z) < 20


def test_the_rtc_starts_in_2000_and_follows_what_is_set(board):
    out = run_on(board.device, """
import machine, time
rtc = machine.RTC()
print(rtc.datetime()[0])
rtc.datetime((2026, 11, 26, 3, 6, 30, 0, 0))
print(time.localtime()[:5])
""")
    assert out.split("\n") == ["2000", "(2026, 11, 26, 6, 30)"]


def test_mpremote_mount_lends_the_board_a_local_folder(board, tmp_path):
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    (project / "notes.txt").write_text("from the host")
    (project / "blink.py").write_text("RATE_HZ = 4\n")
    (elsewhere / "far.txt").write_text("")
    (project / "far").symlink_to(elsewhere)
    code = ("import os, blink; print(sorted(os.listdir()), blink.RATE_HZ, open('notes.txt').read())\n"
            "open('made.txt', 'w').write('on the board')")
    rc, out = mpremote(board.device, "mount", ".", "exec", code, cwd=project)
    assert rc == 0 and "Traceback" not in out, out  # unmounted cleanly at the end
    assert "['blink.py', 'far', 'notes.txt'] 4 from the host" in out
    assert (project / "made.txt").read_text() == "on the board"
    # -l (--unsafe-links): links that leave the folder are followed
    rc, out = mpremote(board.device, "mount", "-l", ".", "exec", "import os; print(os.listdir('far'))", cwd=project)
    assert rc == 0 and "Traceback" not in out, out
    assert "['far.txt']" in out
    # the board is back on its own flash
    assert run_on(board.device, "import os; print(os.getcwd(), 'made.txt' in os.listdir())") == "/ False"


def _controlling_terminal():
    # in the child, after setsid: the pseudo-terminal on fd 0 becomes its terminal
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def test_the_repl_answers_through_mpremote(board):
    # mpremote's repl needs a terminal of its own: give it one.
    master, slave = os.openpty()
    proc = subprocess.Popen([MPREMOTE, "connect", board.device, "repl"], stdin=slave, stdout=slave,
                            stderr=slave, start_new_session=True, preexec_fn=_controlling_terminal)
    os.close(slave)
    seen = bytearray()

    def expect(pattern, timeout=10):
        deadline = time.monotonic() + timeout
        while not re.search(pattern, seen) and time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                seen.extend(os.read(master, 4096))
        assert re.search(pattern, seen), bytes(seen)

    try:
        expect(rb"Ctrl-\]")
        # mpremote puts its terminal in raw mode when its console is ready
        deadline = time.monotonic() + 10
        while termios.tcgetattr(master)[3] & termios.ECHO and time.monotonic() < deadline:
            time.sleep(0.05)
        os.write(master, b"\r")
        expect(rb">>> ")
        os.write(master, b"6*7\r")
        expect(rb"6\*7\r?\n42\r?\n")
    finally:
        os.write(master, b"\x1d")  # Ctrl-]: leave mpremote's repl
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        os.close(master)


def test_a_watchdog_that_is_not_fed_resets_the_board(board):
    rc, out = mpremote(board.device, "exec", "import machine, time\nw = machine.WDT(timeout=200)\n"
                       "time.sleep_ms(1000)\nprint('still here')")
    assert "still here" not in out
    assert run_on_resumed(board.device, "import machine; print(machine.reset_cause())") == "3"  # WDT_RESET


def test_the_flash_persists_across_restarts_in_a_folder(tmp_path):
    flash = tmp_path / "flash"
    with BoardProcess("--fs", flash, "--baud", "0") as b:
        run_on(b.device, "import os; os.mkdir('rg'); open('rg/1','w').write('session one')")
    assert (flash / "rg" / "1").read_text() == "session one"
    with BoardProcess("--fs", flash, "--baud", "0") as b:
        assert run_on(b.device, "print(open('rg/1').read())") == "session one"


def test_a_board_with_an_lsm6dsox_gets_that_chip_in_its_own_axes():
    # xiao_esp32s3: LSM6DSOX at 0x6A, axes "-y+z-x": device z = -chip x. No trace:
    # standing still, so about +1000 mg on device z reads about -1000 mg on chip x.
    with BoardProcess("--board", "xiao_esp32s3", "--baud", "0") as b:
        out = run_on(b.device, """
import machine, struct
i2c = machine.I2C(0)
i2c.writeto_mem(0x6A, 0x10, b'\\x54')        # 208 Hz, +-16 g: 0.488 mg per LSB
print(i2c.readfrom_mem(0x6A, 0x0F, 1).hex())
print(*[r * 488 // 1000 for r in struct.unpack('<hhh', i2c.readfrom_mem(0x6A, 0x28, 6))])
""")
    who_am_i, accel = out.split("\n")
    chip_x, chip_y, chip_z = (int(v) for v in accel.split())
    assert who_am_i == "6c"
    assert abs(chip_x + 1000) < 10 and abs(chip_y) < 10 and abs(chip_z) < 10


# A tick loop that reads stdin as the firmware's sync server does between
# ticks (rearguard.sync.ConsoleLink: select.poll().ipoll(0), then readinto one
# byte, as long as bytes come), with {work} iterations of computing per tick.
STDIN_READER = """import select, sys, time
poller = select.poll()
poller.register(sys.stdin, select.POLLIN)
stdin = sys.stdin.buffer
one = bytearray(1)
print('reading')
while True:
    n = 0
    for i in range({work}):
        n += i
    while True:
        got = 0
        for _ready in poller.ipoll(0):
            got = stdin.readinto(one)
        if not got:
            break
    time.sleep_ms({rest})
"""
CTRL_C_TRIALS = 25


@pytest.mark.parametrize("work,rest_ms", [(2000, 8), (20000, 1)], ids=["light tick", "busy tick"])
def test_ctrl_c_lands_while_a_program_reads_stdin_between_ticks(work, rest_ms):
    # On the ESP32 the UART takes Ctrl-C out of the byte stream as it arrives,
    # so a program reading stdin can never swallow it. Here the host's Ctrl-C
    # often arrives while the tick computes; the next read of stdin finds it.
    rng = random.Random(work)
    with BoardProcess() as b:
        line = SerialTransport(b.device, timeout=1)  # reads return: no waiting forever
        try:
            line.enter_raw_repl(soft_reset=False)
            for trial in range(CTRL_C_TRIALS):
                line.exec_raw_no_follow(STDIN_READER.format(work=work, rest=rest_ms))
                started = line.read_until(1, b"reading\n", timeout_overall=10)
                assert started.endswith(b"reading\n"), "trial %d: the loop did not start: %r" % (trial, started)
                delay_ms = rng.randrange(30)
                time.sleep(delay_ms / 1000)
                line.serial.write(b"\r\x03\r\x01")  # what mpremote sends to stop a program
                seen = line.read_until(1, b"raw REPL; CTRL-B to exit\r\n", timeout_overall=10)
                assert b"KeyboardInterrupt" in seen and seen.endswith(b"CTRL-B to exit\r\n"), (
                    "trial %d: Ctrl-C sent %d ms into the loop was lost (no KeyboardInterrupt "
                    "and no raw REPL within 10 s): %r" % (trial, delay_ms, seen))
        finally:
            line.close()
