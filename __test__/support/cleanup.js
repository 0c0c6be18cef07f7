'use strict';
// Process-exit cleanup shared by services.js and worker.js.
//
// Handlers must be synchronous (they also run from process.on('exit')), e.g.
// process.kill(pid, 'SIGKILL'), fs.rmSync, spawnSync.

const handlers = new Set();
let installed = false;

function runAll() {
  const list = [...handlers];
  handlers.clear();
  for (const fn of list.reverse()) {
    try {
      fn();
    } catch {
      /* best effort */
    }
  }
}

function install() {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    const onSignal = () => {
      runAll();
      // If nobody else handles the signal, behave like the default action.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.once(sig, onSignal);
  }
}

/** Register fn to run once at process exit. Returns an unregister function. */
function onExit(fn) {
  install();
  handlers.add(fn);
  return () => handlers.delete(fn);
}

/** Synchronously kill a pid (or, with group=true, its process group). Never throws. */
function killNow(pid, { group = false, signal = 'SIGKILL' } = {}) {
  if (!pid) return;
  try {
    process.kill(group ? -pid : pid, signal);
  } catch {
    /* already gone */
  }
}

module.exports = { onExit, killNow };
