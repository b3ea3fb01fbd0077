"""What one of the firmware's counted bytecode operations costs on an ESP32 at
240 MHz: the power model's `US_PER_OP_240` (sim/power.py), carried over from a
published benchmark through real MicroPython (docs/power.md, "A tick's work").

    .venv/bin/python -m tools.calibrate_cpu PATH/TO/pystone_lowmem.py

The ESP32's MicroPython speed is published for one program, micropython-lib's
pystone_lowmem (`PYSTONES_ESP32_240` in sim/power.py, with its source). This
runs it and the firmware's IMU chain (tests/mp/mp_cpu.py) in the same real
MicroPython (the WebAssembly port, in Node.js), and counts both programs'
operations under CPython as the power bench counts a tick's. What a firmware
operation costs against a pystone operation in one MicroPython, it costs on
the ESP32's too (the same interpreter, compiled for another CPU):

    us per firmware operation on the ESP32
        = (MicroPython time per firmware operation / per pystone operation)
          x ESP32 time per pystone pass / pystone operations per pass

pystone_lowmem is not part of this repository (micropython-lib, MIT licence):
give the path of its pystone_lowmem.py.

With a clip on USB (the firmware deployed: `make deploy`), its own CPU
settles it instead, no pystone needed:

    .venv/bin/python -m tools.calibrate_cpu --board /dev/ttyUSB0

stops the firmware (mpremote's Ctrl-C, which the firmware handles: motor off,
run closed), times the same workload at 240 MHz on the board, and resets it
back into the firmware: us per operation = the board's time per IMU sample /
the operations CPython counts for it. Nothing is written to the clip's flash.
"""

import json
import os
import statistics
import sys
import tempfile
import types

from sim import loader, power
from tools import deploy, micropython
from tools.bench_power import firmware_ops

TRACE = "probe_trace.csv"  # tests/mp/: the allocation probe's synthetic jog
SAMPLES = 4000  # IMU samples of the firmware workload (40 s of ticks)
PASSES = 2000  # pystone passes counted under CPython (530 operations each)
TIMED_PASSES = 10000  # ... and timed under MicroPython (its clock counts whole milliseconds here)
REPEATS = 7  # pystone and the workload timed back to back, this many times ...
INTERPRETERS = 3  # ... in this many fresh interpreters; the median ratio is kept


BOARD_ROWS = 60  # trace rows sent to a board (0.6 s of the jog, played over and over)
BOARD_SAMPLES = 1000  # IMU samples a board times, ...
BOARD_REPEATS = 3  # ... this many times (the fastest is kept)
BOARD_LIMIT_S = 120  # ~3 x 2.5 s on an ESP32, with room for a slow host


class CalibrationError(Exception):
    pass


def read_pystone(path):
    try:
        with open(path) as f:
            source = f.read()
    except OSError as e:
        raise CalibrationError("cannot read %s (%s): give the path of micropython-lib's "
                               "pystone_lowmem.py" % (path, e.strerror)) from None
    if "def Proc0(" not in source:
        raise CalibrationError("%s is not pystone_lowmem.py (no Proc0)" % path)
    return source


def _pystone_proc0(path):
    # pystone_lowmem imports only utime's ticks, which CPython lacks: lent for the import.
    namespace = {"__name__": "pystone_calibration", "__file__": path}
    sys.modules["utime"] = types.SimpleNamespace(ticks_ms=lambda: 0, ticks_diff=lambda a, b: a - b)
    try:
        exec(compile(read_pystone(path), path, "exec"), namespace)
    finally:
        del sys.modules["utime"]
    return namespace["Proc0"]


def cpython_ops(pystone_path, samples=SAMPLES, passes=PASSES):
    """Operations per pystone pass and per firmware IMU sample, counted as the
    power bench counts a tick's; and what the workload computed."""
    per_pass = firmware_ops(_pystone_proc0(pystone_path), passes,
                            where=os.path.basename(pystone_path)) / passes
    return (per_pass,) + workload_ops(trace_lines(), samples)


def trace_lines(rows=None):
    with open(os.path.join(micropython.TESTS_MP, TRACE)) as f:
        lines = f.read().splitlines()
    return lines if rows is None else lines[:rows + 1]


def workload_ops(lines, samples):
    """(operations per IMU sample, what the workload computed) under CPython."""
    sys.path.insert(0, micropython.TESTS_MP)
    try:
        with loader.firmware_modules():
            import mp_cpu

            rows = mp_cpu.rows_of(lines)
            per_sample = firmware_ops(mp_cpu.run, rows, samples) / samples
            return per_sample, list(mp_cpu.run(rows, samples))
    finally:
        sys.path.remove(micropython.TESTS_MP)
        sys.modules.pop("mp_cpu", None)


_TIMING = """
import json, mp_cpu
rows = mp_cpu.load(%(trace)r)
out = {"pass_us": [], "sample_us": [], "result": list(mp_cpu.run(rows, %(samples)d))}
for _ in range(%(warmup)d):  # Node.js compiles the interpreter's hot code as it runs
    Proc0(%(passes)d)
    mp_cpu.run(rows, %(samples)d)
for _ in range(%(repeats)d):
    out["pass_us"].append(mp_cpu.timed_us(Proc0, %(passes)d) / %(passes)d)
    out["sample_us"].append(mp_cpu.timed_us(mp_cpu.run, rows, %(samples)d) / %(samples)d)
print(%(prefix)r + json.dumps(out))
"""


def micropython_times(pystone_path, samples=SAMPLES, passes=TIMED_PASSES, repeats=REPEATS):
    """MicroPython (WebAssembly) time per pystone pass and per IMU sample, us,
    as (pass, sample) pairs timed back to back; and what the workload computed."""
    timing = _TIMING % {"trace": micropython.DEVICE_TESTS_MP + "/" + TRACE, "samples": samples,
                        "passes": passes, "repeats": repeats, "warmup": repeats,
                        "prefix": micropython.RECORD_PREFIX}
    steps = [read_pystone(pystone_path), timing]
    jobs = {"run%d" % i: steps for i in range(INTERPRETERS)}
    records = [r.check().records()[0] for r in micropython.run_batch(jobs, timeout=900).values()]
    pairs = [p for r in records for p in zip(r["pass_us"], r["sample_us"])]
    return pairs, records[0]["result"]


def calibrate(pystone_path, samples=SAMPLES, passes=PASSES, timed_passes=TIMED_PASSES,
              repeats=REPEATS):
    """The figures (see the module's docstring); CalibrationError if the two
    runtimes did not compute the same, or a timing was too short to tell."""
    ops_pass, ops_sample, cpython_result = cpython_ops(pystone_path, samples, passes)
    pairs, mp_result = micropython_times(pystone_path, samples, timed_passes, repeats)
    if not all(p and s for p, s in pairs):
        raise CalibrationError("a MicroPython timing took under its clock's millisecond: time more")
    if mp_result != cpython_result:
        raise CalibrationError("the workload computed %r under MicroPython, %r under CPython"
                               % (mp_result, cpython_result))
    # Each pair was timed back to back: its ratio leaves out how fast the machine was then.
    ratios = sorted((s / ops_sample) / (p / ops_pass) for p, s in pairs)
    relative = statistics.median(ratios)
    esp32_pass_us = 1e6 / power.PYSTONES_ESP32_240
    return {
        "pystone_ops_per_pass": round(ops_pass, 1),
        "firmware_ops_per_sample": round(ops_sample, 1),
        "micropython_us_per_pass": round(statistics.median(p for p, _s in pairs), 2),
        "micropython_us_per_sample": round(statistics.median(s for _p, s in pairs), 2),
        "firmware_op_vs_pystone_op": round(relative, 3),
        "firmware_op_vs_pystone_op_range": [round(ratios[0], 3), round(ratios[-1], 3)],
        "esp32_us_per_pystone_op": round(esp32_pass_us / ops_pass, 3),
        "esp32_us_per_firmware_op": round(relative * esp32_pass_us / ops_pass, 3),
        "model_us_per_op": power.US_PER_OP_240,
    }


_ON_BOARD = """
import gc, json, machine
TRACE = %(trace)r
rows = rows_of(TRACE.split("\\n"))
machine.freq(240000000)
result = run(rows, %(samples)d)
best = 0
for _ in range(%(repeats)d):
    gc.collect()
    dt = timed_us(run, rows, %(samples)d)
    best = dt if not best or dt < best else best
print(%(prefix)r + json.dumps({"us": best, "freq_hz": machine.freq(), "result": list(result)}))
"""


def board_script(lines, samples=BOARD_SAMPLES, repeats=BOARD_REPEATS):
    """What the board runs: the workload's module and its timing, the rows inline."""
    with open(os.path.join(micropython.TESTS_MP, "mp_cpu.py")) as f:
        module = f.read()
    return module + _ON_BOARD % {"trace": "\n".join(lines), "samples": samples, "repeats": repeats,
                                 "prefix": micropython.RECORD_PREFIX}


def on_board(port, samples=BOARD_SAMPLES, repeats=BOARD_REPEATS):
    """Time the workload on the clip at `port`, then reset it into its firmware."""
    lines = trace_lines(BOARD_ROWS)
    connect = [os.path.relpath(deploy.MPREMOTE, loader.ROOT), "connect", port, "resume"]
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(board_script(lines, samples, repeats))
    try:
        said = _mpremote(deploy.Step("timing the workload", connect + ["run", f.name], BOARD_LIMIT_S), port)
    finally:
        os.unlink(f.name)
        _mpremote(deploy.Step("resetting it into its firmware", connect + ["reset"],
                              deploy.COMMAND_LIMIT_S), port)
    prefix = micropython.RECORD_PREFIX
    records = [json.loads(line[len(prefix):]) for line in said.splitlines() if line.startswith(prefix)]
    if not records:
        raise CalibrationError("the board on %s printed no timing:\n%s" % (port, said.strip()[-2000:]))
    record = records[0]
    ops, result = workload_ops(lines, samples)
    if record["result"] != result:
        raise CalibrationError("the workload computed %r on the board, %r under CPython"
                               % (record["result"], result))
    us_per_sample = record["us"] / samples
    return {
        "board_freq_mhz": record["freq_hz"] // 1000000,
        "board_us_per_sample": round(us_per_sample, 1),
        "firmware_ops_per_sample": round(ops, 1),
        "board_us_per_firmware_op": round(us_per_sample / ops, 3),
        "model_us_per_op": power.US_PER_OP_240,
    }


def _mpremote(step, port):
    try:
        return deploy.run(step, port, capture=True)
    except deploy.DeployError as e:
        raise CalibrationError(str(e).replace("deploy stopped: ", "")) from None


def main(argv):
    if len(argv) == 2 and argv[0] == "--board":
        job = on_board
    elif len(argv) == 1 and not argv[0].startswith("-"):
        job = calibrate
    else:
        print("usage: .venv/bin/python -m tools.calibrate_cpu PATH/TO/pystone_lowmem.py\n"
              "       .venv/bin/python -m tools.calibrate_cpu --board PORT", file=sys.stderr)
        return 2
    try:
        result = job(argv[-1])
    except CalibrationError as e:
        print("calibrate_cpu: %s" % e, file=sys.stderr)
        return 1
    print(json.dumps(result, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
