// The virtual board's CPU: real MicroPython (the WebAssembly port) behind a
// serial line, behaving like a freshly flashed ESP32 for mpremote and for the
// firmware's sync server. Started by sim/mpboard/launcher.py, which owns the
// pseudo-terminal and relays its bytes through this process's stdin/stdout.
//
//     node sim/mpboard/board.mjs config.json     # stdin: serial in, stdout: serial out
//
// Why it is more than a pipe into replProcessChar:
// - The port has no VM hook and busy-waits in time.sleep_ms, so JavaScript's
//   event loop never runs while Python runs. Everything here is synchronous:
//   the board's Python modules (sim/mpboard/device), sys.stdin and select.poll
//   call back into this file while the firmware runs, and that is where serial
//   bytes are read. Ctrl-C becomes a KeyboardInterrupt (mp_sched_keyboard_
//   interrupt) as each byte arrives, as the ESP32's UART driver does.
// - The port's event-driven raw-paste mode hangs, so raw-paste (0x05 'A' 0x01)
//   is done here: the flow control with the host, then the collected code is
//   fed to the plain raw REPL (its "OK" withheld). mpremote then writes without
//   its 10 ms pauses per 256 bytes, as to an ESP32.
// - Soft reset (Ctrl-D, machine.soft_reset) starts a fresh MicroPython instance;
//   the flash (files under /flash in the instance) is carried over.
// - The host errno values of the port's VfsPosix (Emscripten's: ENOENT is 44)
//   are mapped to MicroPython's by a Python VFS (device/mpboard_vfs.py), so
//   mpremote's fs commands understand them.
import fs from "node:fs";
import path from "node:path";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const cfg = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const DEVICE_DIR = path.join(path.dirname(new URL(import.meta.url).pathname), "device");
// What every virtual board shares (machine API core, chip register models, trace player).
const SHARED_DIR = path.join(path.dirname(new URL(import.meta.url).pathname), "..", "vboard");
const FLASH = "/flash";
const SUPPORT = "/_board";
const PYEXEC_FORCED_EXIT = 0x100;
const RESET_CAUSE = { power: 1, hard: 2, wdt: 3, soft: 5 };

// --- time -------------------------------------------------------------------
const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepReal(ms) {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}

// --- serial out ----------------------------------------------------------------
let outBuf = [];
let outMuted = false;
let tail = ""; // the last characters sent (markers may span two chunks)
let rawMode = false; // the REPL's mode, as it last announced it

let dropOk = false; // the next "OK" from the raw REPL ends a raw-paste command: not sent

function emit(byte) {
  if (outMuted) return;
  if (dropOk) {
    if (byte === 0x4f || byte === 0x4b) return; // "O", "K"
    dropOk = false;
  }
  outBuf.push(byte);
  if (outBuf.length >= 4096) flush();
}

function emitText(text) {
  for (const b of Buffer.from(text, "latin1")) emit(b);
}

// MPBOARD_WIRE_LOG=path: every byte in and out of the serial line, for debugging.
const wireLog = process.env.MPBOARD_WIRE_LOG ? fs.openSync(process.env.MPBOARD_WIRE_LOG, "a") : null;
function logWire(dir, bytes) {
  if (wireLog !== null) fs.writeSync(wireLog, dir + " " + JSON.stringify(Buffer.from(bytes).toString("latin1")) + "\n");
}

function flush() {
  if (outBuf.length === 0) return;
  const chunk = Buffer.from(outBuf);
  logWire(">", chunk);
  outBuf = [];
  const text = tail + chunk.toString("latin1");
  const raw = text.lastIndexOf("raw REPL; CTRL-B to exit");
  const friendly = Math.max(text.lastIndexOf(">>> "), text.lastIndexOf('help()" for more'));
  if (raw > friendly) rawMode = true;
  else if (friendly > raw) rawMode = false;
  tail = text.slice(-40);
  let off = 0;
  while (off < chunk.length) {
    try {
      off += fs.writeSync(1, chunk, off);
    } catch (e) {
      if (e.code !== "EAGAIN") throw e;
      sleepReal(1);
    }
  }
}

// The REPL's mode follows from what it printed last (pyexec's own markers).
function inRawRepl() {
  return rawMode;
}

// --- serial in -----------------------------------------------------------------
// Every byte from the host enters the queue in readAvailable, and nowhere else.
// There, as the ESP32's UART receive interrupt (or the S3's USB-Serial/JTAG
// handler) does, the interrupt character is taken out of the stream while
// MicroPython has one set (pyexec sets Ctrl-C while code runs, kbd_intr changes
// it) and becomes a KeyboardInterrupt. No reader of the queue (the REPL,
// sys.stdin, select.poll) can swallow it; while the REPL waits (no interrupt
// character) Ctrl-C is an ordinary REPL byte.
const inq = []; // bytes received and not yet consumed (REPL or sys.stdin)
const readBuf = Buffer.alloc(4096);
let inputClosed = false;
let interruptPending = false; // Ctrl-C scheduled during the current wait: end it

function readAvailable() {
  for (;;) {
    let n;
    try {
      n = fs.readSync(0, readBuf, 0, readBuf.length, null);
    } catch (e) {
      if (e.code === "EAGAIN") return;
      throw e;
    }
    if (n === 0) {
      inputClosed = true;
      return;
    }
    logWire("<", readBuf.subarray(0, n));
    const intr = mp ? mp._module._mp_hal_get_interrupt_char() : -1;
    for (let i = 0; i < n; i++) {
      if (readBuf[i] === intr) {
        interruptPending = true;
        mp._module._mp_sched_keyboard_interrupt();
      } else {
        inq.push(readBuf[i]);
      }
    }
    if (n < readBuf.length) return;
  }
}

// --- the board's state across resets -------------------------------------------
let mp = null;
let resetRequest = null; // "soft" | "hard" | "wdt", set by machine.* through board.reset
let lastSave = 0;
let idle = null; // mpboard_boot.idle of the running instance
const board = {
  rtcOffsetS: null, // RTC seconds minus uptime seconds, survives soft and hard resets
  bootMs: Date.now(),
  log: cfg.log ? fs.openSync(cfg.log, "a") : null,
};

function flashFiles(FS, root, out, rel = "") {
  for (const name of FS.readdir(root + rel)) {
    if (name === "." || name === "..") continue;
    const p = rel + "/" + name;
    const st = FS.stat(root + p);
    if (FS.isDir(st.mode)) {
      out.push([p, null]);
      flashFiles(FS, root, out, p);
    } else {
      out.push([p, FS.readFile(root + p)]);
    }
  }
  return out;
}

function hostFiles(dir, out, rel = "") {
  for (const ent of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel + "/" + ent.name;
    if (ent.isDirectory()) {
      out.push([p, null]);
      hostFiles(dir, out, p);
    } else if (ent.isFile()) {
      out.push([p, fs.readFileSync(path.join(dir, p))]);
    }
  }
  return out;
}

// Mirror the flash into the folder the user named (--fs DIR).
function saveFlash() {
  if (!cfg.fsDir || !mp) return;
  const files = flashFiles(mp.FS, FLASH, []);
  const keep = new Set(files.map(([p]) => p));
  for (const [p] of hostFiles(cfg.fsDir, []).reverse()) {
    if (!keep.has(p)) fs.rmSync(path.join(cfg.fsDir, p), { recursive: true, force: true });
  }
  for (const [p, data] of files) {
    const host = path.join(cfg.fsDir, p);
    if (data === null) fs.mkdirSync(host, { recursive: true });
    else if (!fs.existsSync(host) || !fs.readFileSync(host).equals(Buffer.from(data))) {
      fs.writeFileSync(host, data);
    }
  }
  lastSave = Date.now();
}

function shutdown() {
  flush();
  saveFlash();
  process.exit(0);
}

// --- what the Python side calls (device/*.py through the `js` module) ------------
// The serial line is served (bytes in, output flushed) whenever Python waits or
// looks at it: time.sleep_ms, machine's I2C/PWM/WDT calls, sys.stdin reads and
// select.poll on sys.stdin, and a program that prints.
function serviceSerial() {
  readAvailable();
  flush();
  if (inputClosed) shutdown();
}

globalThis.mpboard = {
  // Called by the board's Python modules between firmware steps.
  poll: serviceSerial,
  // time.sleep_ms on this board: serve the serial line while waiting.
  sleep(ms) {
    const end = Date.now() + ms;
    interruptPending = false;
    for (;;) {
      serviceSerial();
      const left = end - Date.now();
      if (left <= 0 || interruptPending || resetRequest) return;
      sleepReal(Math.min(left, 2));
    }
  },
  reset(kind) {
    resetRequest = kind;
  },
  resetCause: 1,
  rtcOffset(value) {
    if (value !== undefined) board.rtcOffsetS = value;
    return board.rtcOffsetS === null ? -1 : board.rtcOffsetS;
  },
  uptimeMs() {
    return Date.now() - board.bootMs;
  },
  log(line) {
    if (board.log !== null) fs.writeSync(board.log, line + "\n");
  },
  config: JSON.stringify(cfg),
};

// sys.stdin on this board reads the serial queue; blocking like the ESP32's,
// except that Ctrl-C (or a reset) ends the read so the interrupt can land.
function stdinByte() {
  interruptPending = false;
  for (;;) {
    if (inq.length) return inq.shift();
    serviceSerial();
    if (inq.length) continue;
    if (interruptPending || resetRequest) return null;
    sleepReal(1);
  }
}

// select.poll on sys.stdin: readable only when a byte is queued, as on the
// ESP32. The port's poll with a timeout calls this in a loop and its own poll()
// ignores the timeout, so the line is served here (a mount's request must
// reach the host before the board waits for the answer), and a poll that finds
// nothing right after another did waits 1 ms instead of spinning a core.
let lastEmptyPollMs = 0;
function pollStdin() {
  serviceSerial();
  if (inq.length === 0) {
    const now = Date.now();
    if (now - lastEmptyPollMs <= 1) sleepReal(1);
    lastEmptyPollMs = now;
  }
  return (inq.length ? 0x1 : 0) | 0x4; // POLLIN, POLLOUT
}

// --- one boot of MicroPython ----------------------------------------------------
function mkdirs(FS, p) {
  let here = "";
  for (const part of p.split("/").filter(Boolean)) {
    here += "/" + part;
    try {
      FS.mkdir(here);
    } catch {
      // already there
    }
  }
}

async function startInstance(cause, flash) {
  let printedBytes = 0;
  const instance = await loadMicroPython({
    heapsize: cfg.heapsize,
    linebuffer: false,
    stdout: (chunk) => {
      for (const b of chunk) emit(b);
      // A program that only prints still lets Ctrl-C in.
      printedBytes += chunk.length;
      if (printedBytes >= 256) {
        printedBytes = 0;
        serviceSerial();
      }
    },
    stderr: (chunk) => {
      for (const b of chunk) emit(b);
    },
    stdin: stdinByte,
  });
  mp = instance;
  const FS = mp.FS;
  mkdirs(FS, FLASH);
  for (const [p, data] of flash) {
    if (data === null) mkdirs(FS, FLASH + p);
    else FS.writeFile(FLASH + p, data);
  }
  mkdirs(FS, SUPPORT);
  for (const name of fs.readdirSync(DEVICE_DIR)) {
    if (name.endsWith(".py")) FS.writeFile(SUPPORT + "/" + name, fs.readFileSync(path.join(DEVICE_DIR, name)));
  }
  mkdirs(FS, SUPPORT + "/vboard");
  for (const name of fs.readdirSync(SHARED_DIR)) {
    if (name.endsWith(".py")) FS.writeFile(SUPPORT + "/vboard/" + name, fs.readFileSync(path.join(SHARED_DIR, name)));
  }
  if (cfg.trace) FS.writeFile(SUPPORT + "/trace.csv", fs.readFileSync(cfg.trace));
  const stdin = FS.getStream(0);
  stdin.stream_ops = Object.assign({}, stdin.stream_ops, { poll: pollStdin });
  globalThis.mpboard.resetCause = RESET_CAUSE[cause];
  mp.runPython("import sys\nsys.path.insert(0, '/_board')\nimport mpboard_boot\nmpboard_boot.setup()");
}

// pyexec_file_if_exists; returns true when the file asked for a soft reset.
function runFile(name) {
  const ret = mp.pyimport("mpboard_boot").run_file(name);
  flush();
  return ret === true;
}

async function boot(cause, raw) {
  const flash = mp ? flashFiles(mp.FS, FLASH, []) : cfg.fsDir ? hostFiles(cfg.fsDir, []) : [];
  saveFlash();
  if (cause === "soft") emitText("MPY: soft reboot\r\n");
  else emitText("\r\nrst:" + (cause === "wdt" ? "0x7 (TG0WDT_SYS_RESET)" : cause === "hard" ? "0xc (SW_CPU_RESET)" : "0x1 (POWERON_RESET)") + "\r\n");
  flush();
  mp = null;
  idle = null;
  resetRequest = null;
  globalThis.mpboard.log("0,boot," + cause + ",0");
  await startInstance(cause, flash);
  if (runFile("boot.py") || resetRequest) return false;
  if (!raw && (runFile("main.py") || resetRequest)) return false;
  // The friendly REPL's banner, or straight back into the raw REPL (as pyexec
  // does after a soft reset from raw mode: no banner).
  outMuted = raw;
  mp.replInit();
  outMuted = false;
  if (raw) mp.replProcessChar(0x01);
  flush();
  idle = mp.pyimport("mpboard_boot").idle;
  return true;
}

// --- the REPL loop ----------------------------------------------------------------
const RAW_PASTE_REQUEST = [0x05, 0x41, 0x01];
// Bytes per flow-control 0x01: half of the REPL's 256-byte stdin buffer, as pyexec
// sizes it on the ESP32 (the header and the first 0x01 give the host two windows).
const PASTE_WINDOW = 128;

function startsWithRawPaste() {
  for (let i = 0; i < RAW_PASTE_REQUEST.length; i++) {
    if (i >= inq.length) return "partial";
    if (inq[i] !== RAW_PASTE_REQUEST[i]) return "no";
  }
  return "yes";
}

async function main() {
  let cause = "power";
  let lastIdle = 0;
  let dirty = false;
  let raw = false;
  for (;;) {
    if (!(await boot(cause, raw))) {
      // boot.py / main.py ended in a reset or sys.exit()
      cause = resetRequest || "soft";
      raw = cause === "soft" && raw;
      continue;
    }
    let waitedForPaste = 0;
    let paste = null; // bytes of a raw-paste command being received
    // One REPL character; true when it ended this boot (soft reset, reset).
    const feed = (byte) => {
      const wasRaw = inRawRepl();
      const ret = mp.replProcessChar(byte);
      flush();
      if (resetRequest || ret & PYEXEC_FORCED_EXIT) {
        raw = wasRaw;
        return true;
      }
      return false;
    };
    for (;;) {
      if (inq.length === 0) {
        readAvailable();
        if (inputClosed) shutdown();
        if (inq.length === 0) {
          if (Date.now() - lastIdle >= 10) {
            lastIdle = Date.now();
            const code = idle();
            flush();
            if (code !== 0 || resetRequest) break;
          }
          if (cfg.fsDir && dirty && Date.now() - lastSave > 1000) {
            saveFlash();
            dirty = false;
          }
          sleepReal(2);
          continue;
        }
        dirty = true;
      }
      if (paste !== null) {
        // raw-paste data: flow control here, the code goes to the REPL at the end
        const byte = inq.shift();
        if (byte !== 0x04) {
          paste.push(byte);
          if (paste.length % PASTE_WINDOW === 0) {
            emitText("\x01");
            flush();
          }
          continue;
        }
        emitText("\x04"); // end of data acknowledged; pyexec's "OK" is not part of raw-paste
        flush();
        const code = paste;
        paste = null;
        for (const b of code) mp.replProcessChar(b);
        dropOk = true;
        if (feed(0x04)) break;
        continue;
      }
      if (inq[0] === 0x05 && inRawRepl()) {
        const request = startsWithRawPaste();
        if (request === "partial" && waitedForPaste++ < 50) {
          sleepReal(1);
          readAvailable();
          continue;
        }
        waitedForPaste = 0;
        if (request === "yes") {
          inq.splice(0, 3);
          paste = [];
          emitText("R\x01" + String.fromCharCode(PASTE_WINDOW & 0xff, PASTE_WINDOW >> 8) + "\x01");
          flush();
          continue;
        }
      }
      if (feed(inq.shift())) break;
    }
    cause = resetRequest || "soft";
    if (cause !== "soft") raw = false;
  }
}

// The launcher ends the board by closing its input (the flash is saved then);
// signals to the whole group (Ctrl-C in the terminal, a test's killpg) must not
// cut that short. Handlers never run (the loop is synchronous): they only
// replace Node's default of exiting at once.
process.on("SIGINT", () => {});
process.on("SIGTERM", () => {});
main().catch((e) => {
  process.stderr.write("mpboard: " + (e && e.stack ? e.stack : e) + "\n");
  process.exit(1);
});
