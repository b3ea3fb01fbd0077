// Runs MicroPython scripts in the real MicroPython (WebAssembly port, Node.js)
// over an in-memory copy of the device filesystem. Driven by tools/micropython.py.
//
//     node tools/mp/run.mjs batch.json      # prints one JSON line per job
//
// batch.json: {"heapsize": bytes, "files": [[device_path, host_path], ...],
//              "jobs": [{"name": "...", "steps": ["code", ...]}, ...]}
// Each job gets a fresh MicroPython instance (a "reset"): the files are written
// with FS.mkdir/FS.writeFile, then each step runs with runPython, sharing one
// __main__. Steps exist because this port's gc.collect() only marks a
// collection as pending: the heap is really collected between two runPython
// calls (at the top level, where no C stack can hold pointers). An uncaught
// exception ends the job with ok=false and the traceback in "error".
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const batch = JSON.parse(readFileSync(process.argv[2], "utf8"));
const files = batch.files.map(([device, host]) => [device, readFileSync(host)]);

function mkdirs(FS, path) {
  let here = "";
  for (const part of path.split("/").filter(Boolean)) {
    here += "/" + part;
    try {
      FS.mkdir(here);
    } catch (e) {
      // EEXIST: the directory is already there.
    }
  }
}

for (const job of batch.jobs) {
  // With linebuffer off the port hands over raw bytes (Uint8Array chunks).
  const out = [];
  const err = [];
  const started = Date.now();
  const mp = await loadMicroPython({
    heapsize: batch.heapsize,
    stdout: (chunk) => { out.push(Buffer.from(chunk)); },
    stderr: (chunk) => { err.push(Buffer.from(chunk)); },
    linebuffer: false,
  });
  for (const [device, data] of files) {
    mkdirs(mp.FS, dirname(device));
    mp.FS.writeFile(device, data);
  }
  let ok = true;
  let error = "";
  try {
    for (const step of job.steps) {
      mp.runPython(step);
    }
  } catch (e) {
    ok = false;
    error = String(e && e.message !== undefined ? e.message : e);
  }
  const ms = Date.now() - started;
  const stdout = Buffer.concat(out).toString("utf8");
  const stderr = Buffer.concat(err).toString("utf8");
  process.stdout.write(JSON.stringify({ name: job.name, ok, stdout, stderr, error, ms }) + "\n");
}
