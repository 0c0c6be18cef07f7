'use strict';
// Starts __test__/support/node-worker.js as a child process and follows its output:
//
//   const w = await startNodeWorker({ broker, backend, queue, options: { acksLate: true } });
//   await w.waitFor(/Received task: node.sleep/);
//   w.kill('SIGKILL'); const { code, signal } = await w.exited;

const path = require('node:path');
const { spawn } = require('node:child_process');
const { onExit, killNow } = require('./cleanup');

const READY = 'node-worker ready';

async function startNodeWorker({ broker, backend, queue, options = {} }) {
  const child = spawn(process.execPath, [path.join(__dirname, 'node-worker.js'), JSON.stringify({ broker, backend, queue, options })], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const unregister = onExit(() => killNow(child.pid));
  let output = '';
  const watchers = new Set();
  const onData = (chunk) => {
    output += chunk;
    for (const watcher of watchers) watcher();
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      unregister();
      resolve({ code, signal });
      for (const watcher of watchers) watcher();
    });
  });
  let done = false;
  exited.then(() => (done = true));

  /** Resolves once the output matches `pattern` `count` times; rejects if the process ends first. */
  function waitFor(pattern, count = 1) {
    const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
    return new Promise((resolve, reject) => {
      const check = () => {
        if ((output.match(global) || []).length >= count) {
          watchers.delete(check);
          resolve(output);
        } else if (done) {
          watchers.delete(check);
          reject(new Error(`node worker exited before ${pattern} (×${count}):\n${output}`));
        }
      };
      watchers.add(check);
      check();
    });
  }

  await waitFor(new RegExp(READY));
  return {
    pid: child.pid,
    output: () => output,
    waitFor,
    exited,
    kill: (signal = 'SIGTERM') => child.kill(signal),
  };
}

module.exports = { startNodeWorker };
