'use strict';
// Python Celery workers (and one-shot Python scripts) for the tests.
//
//   const w = await startWorker({ broker, backend, queues: ['q1'] });
//   ... w.output() ... await w.stop();
//
//   const out = await runPython('-c', ['print(1)']);
//   const out = await runPython('from tasks import app; print(app.main)');
//   const out = await runPython('client_script.py', ['arg1'], { CELERY_BROKER_URL: url });

const path = require('node:path');
const crypto = require('node:crypto');
const { spawn } = require('node:child_process');
const { ensureVenv, PYTHON_DIR } = require('./setup');
const { onExit, killNow } = require('./cleanup');

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const OUTPUT_LIMIT = 4 * 1024 * 1024;

// Celery logs "<name> ready." at INFO; tasks.py prints a marker from the
// worker_ready signal regardless of --loglevel. Either one means ready.
const READY_RE = /(?:^|\n)(?:\[[^\]]*\]\s*)?(?:celery-native-test: worker )?\S+@\S+ ready\.\s*(?:\r?\n|$)/;

function pythonEnv(extra) {
  const env = { ...process.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', ...extra };
  env.PYTHONPATH = env.PYTHONPATH ? `${PYTHON_DIR}${path.delimiter}${env.PYTHONPATH}` : PYTHON_DIR;
  return env;
}

/**
 * Start `celery -A tasks worker` (threads pool) and wait until it is ready.
 *
 * @param {object} o
 * @param {string} o.broker      broker URL (CELERY_BROKER_URL)
 * @param {string} [o.backend]   result backend URL (CELERY_RESULT_BACKEND), default: broker
 * @param {string|string[]} o.queues  queue name(s) to consume (-Q)
 * @param {number} [o.concurrency=4]
 * @param {string} [o.loglevel='INFO']
 * @param {object} [o.env]       extra environment for the worker
 * @param {string[]} [o.args]    extra command line arguments for `celery worker`
 * @returns {Promise<{pid:number, name:string, output():string, exited():boolean, stop():Promise<void>}>}
 */
async function startWorker({ broker, backend, queues, concurrency = 4, loglevel = 'INFO', env = {}, args = [] } = {}) {
  if (!broker) throw new Error('startWorker: broker is required');
  const queueList = Array.isArray(queues) ? queues : [queues];
  if (!queueList.length || queueList.some((q) => !q)) throw new Error('startWorker: queues is required');
  const { celery } = await ensureVenv();

  const name = `w${crypto.randomBytes(4).toString('hex')}@%h`;
  const argv = [
    '-A', 'tasks', 'worker',
    '-Q', queueList.join(','),
    '--pool', 'threads',
    '-c', String(concurrency),
    '-n', name,
    '--loglevel', loglevel,
    '--without-gossip', '--without-mingle', '--without-heartbeat',
    ...args,
  ];
  const child = spawn(celery, argv, {
    cwd: PYTHON_DIR,
    env: pythonEnv({ CELERY_BROKER_URL: broker, CELERY_RESULT_BACKEND: backend || broker, ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  let output = '';
  let exitInfo = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
    child.on('error', (err) => {
      output += `\n[spawn error] ${err.message}\n`;
      exitInfo = { error: err.message };
      resolve(exitInfo);
    });
  });
  const unregister = onExit(() => killNow(child.pid));
  exitPromise.then(unregister);

  const watchers = new Set(); // output waits: checked as output arrives
  const ready = new Promise((resolve, reject) => {
    let settled = false;
    const onData = (d) => {
      output += d;
      if (output.length > OUTPUT_LIMIT) output = output.slice(-OUTPUT_LIMIT);
      for (const watch of watchers) watch();
      if (!settled && READY_RE.test(output)) {
        settled = true;
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      killNow(child.pid);
      reject(new Error(`celery worker not ready after ${READY_TIMEOUT_MS} ms:\n${output}`));
    }, READY_TIMEOUT_MS);
    exitPromise.then((info) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`celery worker exited before ready (${JSON.stringify(info)}):\n${output}`));
    });
  });
  await ready;

  // A worker a test forgot to stop must not keep the test process alive;
  // the exit hook kills it.
  child.unref();
  child.stdout.unref();
  child.stderr.unref();

  let stopping = null;
  return {
    pid: child.pid,
    name,
    output: () => output,
    exited: () => exitInfo !== null,
    /** Resolves once the worker's output contains `text`; rejects after `timeoutMs` or at exit. */
    waitForOutput(text, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const done = (error) => {
          watchers.delete(watch);
          clearTimeout(timer);
          if (error) reject(error);
          else resolve();
        };
        const watch = () => {
          if (output.includes(text)) done();
          else if (exitInfo) done(new Error(`worker exited before printing ${text}:\n${output}`));
        };
        const timer = setTimeout(() => done(new Error(`worker did not print ${text} within ${timeoutMs} ms:\n${output}`)), timeoutMs);
        watchers.add(watch);
        exitPromise.then(watch);
        watch();
      });
    },
    /** SIGTERM (warm shutdown), SIGKILL after 10 s; resolves once the process is gone. */
    stop() {
      if (!stopping) {
        stopping = (async () => {
          if (exitInfo) return;
          // keep the event loop alive until the exit event (and last output) arrive
          child.ref();
          child.stdout.ref();
          child.stderr.ref();
          killNow(child.pid, { signal: 'SIGTERM' });
          const t = setTimeout(() => killNow(child.pid), STOP_GRACE_MS);
          await exitPromise;
          clearTimeout(t);
        })();
      }
      return stopping;
    },
  };
}

/**
 * Run Python from the venv with cwd __test__/python (so `import tasks` works)
 * and resolve with its stdout; reject (with stdout+stderr) on non-zero exit.
 *
 * `script` is either a file (a path ending in .py, relative to __test__/python
 * or absolute), the literal '-c' (then args[0] is the code), or otherwise
 * Python source code that is run with -c.
 *
 * @param {string} script
 * @param {string[]} [args]
 * @param {object} [env]  extra environment (e.g. CELERY_BROKER_URL)
 * @param {{timeout?: number, input?: string|Buffer}} [opts]  timeout in ms (default 60000)
 * @returns {Promise<string>}
 */
async function runPython(script, args = [], env = {}, { timeout = 60_000, input } = {}) {
  const { python } = await ensureVenv();
  let argv;
  if (script === '-c') argv = ['-c', ...args];
  else if (/\.py$/.test(script) && !script.includes('\n')) argv = [path.resolve(PYTHON_DIR, script), ...args];
  else argv = ['-c', script, ...args];

  return new Promise((resolve, reject) => {
    const child = spawn(python, argv, {
      cwd: PYTHON_DIR,
      env: pythonEnv(env),
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const unregister = onExit(() => killNow(child.pid));
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    if (input !== undefined) child.stdin.end(input);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killNow(child.pid);
    }, timeout);
    child.on('error', (err) => {
      clearTimeout(timer);
      unregister();
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      unregister();
      if (code === 0) return resolve(stdout);
      const why = timedOut ? `timed out after ${timeout} ms` : `exited with ${signal || code}`;
      const err = new Error(`python ${argv.join(' ').slice(0, 200)} ${why}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`);
      err.stdout = stdout;
      err.stderr = stderr;
      err.code = code;
      reject(err);
    });
  });
}

module.exports = { startWorker, runPython };
