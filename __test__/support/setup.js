'use strict';
// Creates the Python virtualenv used by the test suite (__test__/.venv) from
// __test__/python/requirements.txt.
//
//   node __test__/support/setup.js      # CLI: create or verify, prints progress
//   await require('./setup').ensureVenv()  # same thing from a test
//
// The venv is (re)built only when it is missing or when the stamp file inside it
// records a different hash of (requirements.txt, python version). A lock
// directory makes concurrent callers (parallel test files) wait for one builder.

const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawn, spawnSync } = require('node:child_process');

const TEST_DIR = path.resolve(__dirname, '..');
const PYTHON_DIR = path.join(TEST_DIR, 'python');
const VENV_DIR = path.join(TEST_DIR, '.venv');
const REQUIREMENTS = path.join(PYTHON_DIR, 'requirements.txt');
const STAMP = path.join(VENV_DIR, '.celery-native-stamp');
const LOCK_DIR = path.join(TEST_DIR, '.venv.lock');
const VENV_BIN = path.join(VENV_DIR, process.platform === 'win32' ? 'Scripts' : 'bin');
const VENV_PYTHON = path.join(VENV_BIN, 'python');
const VENV_CELERY = path.join(VENV_BIN, 'celery');

function log(msg) {
  process.stderr.write(`[test-setup] ${msg}\n`);
}

function basePython() {
  return process.env.CELERY_NATIVE_TEST_PYTHON || 'python3';
}

function requirementsHash() {
  const py = spawnSync(basePython(), ['-c', 'import sys; print(sys.version)'], { encoding: 'utf8' });
  if (py.error || py.status !== 0) {
    throw new Error(`cannot run ${basePython()}: ${py.error ? py.error.message : py.stderr}`);
  }
  return crypto
    .createHash('sha256')
    .update(fs.readFileSync(REQUIREMENTS))
    .update('\0')
    .update(py.stdout.trim())
    .digest('hex');
}

function isReady(hash) {
  try {
    return fs.readFileSync(STAMP, 'utf8').trim() === hash && fs.existsSync(VENV_CELERY);
  } catch {
    return false;
  }
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// mkdir is atomic: whoever creates LOCK_DIR builds, the others wait. A lock whose
// owner PID is dead is considered stale and removed.
async function acquireLock(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    try {
      fs.mkdirSync(LOCK_DIR);
      fs.writeFileSync(path.join(LOCK_DIR, 'pid'), String(process.pid));
      return;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    let owner = NaN;
    try {
      owner = Number(fs.readFileSync(path.join(LOCK_DIR, 'pid'), 'utf8'));
    } catch {
      /* owner may not have written its pid yet */
    }
    let stale = Number.isInteger(owner) && owner > 0 && !pidAlive(owner);
    if (!stale && !(owner > 0)) {
      // no pid file: the owner died between mkdir and writing it, or is just slow
      try {
        stale = Date.now() - fs.statSync(LOCK_DIR).mtimeMs > 10_000;
      } catch {
        continue; // lock vanished meanwhile
      }
    }
    if (stale) {
      fs.rmSync(LOCK_DIR, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for venv lock ${LOCK_DIR}`);
    if (!announced) {
      log(`waiting for another process building the venv (lock ${LOCK_DIR})`);
      announced = true;
    }
    await sleep(250);
  }
}

function releaseLock() {
  fs.rmSync(LOCK_DIR, { recursive: true, force: true });
}

function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${signal || code}):\n${out}`));
    });
  });
}

async function build(hash) {
  const started = Date.now();
  if (fs.existsSync(VENV_DIR)) {
    log('requirements changed or venv incomplete: rebuilding __test__/.venv');
    fs.rmSync(VENV_DIR, { recursive: true, force: true });
  } else {
    log('creating __test__/.venv');
  }
  await run(basePython(), ['-m', 'venv', VENV_DIR]);
  log(`pip install -r ${path.relative(process.cwd(), REQUIREMENTS) || REQUIREMENTS}`);
  await run(VENV_PYTHON, [
    '-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-q', '-r', REQUIREMENTS,
  ]);
  await run(VENV_PYTHON, ['-c', 'import celery, kombu, redis']);
  fs.writeFileSync(STAMP, hash + '\n');
  log(`venv ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

let cached = null;

/**
 * Make sure __test__/.venv exists and matches requirements.txt.
 * Resolves to { venv, bin, python, celery, pythonDir }. Fast (one `python3 -c`)
 * when nothing has to be done.
 */
function ensureVenv() {
  if (!cached) {
    cached = (async () => {
      const hash = requirementsHash();
      if (!isReady(hash)) {
        await acquireLock(15 * 60 * 1000);
        try {
          if (!isReady(hash)) await build(hash); // re-check: another process may have built it
        } finally {
          releaseLock();
        }
      }
      return { venv: VENV_DIR, bin: VENV_BIN, python: VENV_PYTHON, celery: VENV_CELERY, pythonDir: PYTHON_DIR };
    })();
    cached.catch(() => {
      cached = null;
    });
  }
  return cached;
}

module.exports = { ensureVenv, VENV_DIR, VENV_BIN, VENV_PYTHON, VENV_CELERY, PYTHON_DIR, REQUIREMENTS };

if (require.main === module) {
  ensureVenv().then(
    (info) => log(`ok: ${path.relative(process.cwd(), info.venv) || info.venv} is up to date`),
    (err) => {
      log(err.stack || String(err));
      process.exitCode = 1;
    },
  );
}
