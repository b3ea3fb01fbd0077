"""What every virtual board shares, in code that runs under CPython and
MicroPython alike (docs/simulator.md, "One core, three glues"):

- machine_core: the ESP32 port's `machine` API over a `Board` each runtime
  subclasses (sim/board.py, sim/mpboard/device/machine.py, tests/mp/fake_machine.py);
- chips: the register models of the VL53L1X, MPU6050/MPU6886 and LSM6DSOX;
- trace_player: the trace as their sample source (the MicroPython boards).

The CPython simulator's other source, the world's physics, is sim/chips.
On MicroPython the package is copied as /_board/vboard (the WebAssembly board)
and /tests_mp/vboard (the allocation probe), so its modules import each other
relatively.
"""
