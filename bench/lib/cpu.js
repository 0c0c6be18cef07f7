'use strict';
// Where a round trip's CPU goes, read from /proc (Linux): the CPU time of the worker, the broker,
// Redis and this process, and how long the worker's threads were ready to run but waited for a
// free core (schedstat). Anywhere else every figure is null.

const fs = require('node:fs');

const USER_HZ = 100; // the unit of /proc/<pid>/stat's utime and stime on Linux

function read(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** User + system CPU of a whole process (all its threads), in µs; null if it is gone. */
function processCpuMicros(pid) {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === null) return null;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / USER_HZ;
}

/** Time on a core and time ready but waiting for one, summed over the process's threads, in µs. */
function schedMicros(pid) {
  let tasks;
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  let run = 0;
  let wait = 0;
  for (const task of tasks) {
    const line = read(`/proc/${pid}/task/${task}/schedstat`);
    if (line === null) continue;
    const [onCpu, waiting] = line.split(' ').map(Number);
    run += onCpu / 1000;
    wait += waiting / 1000;
  }
  return { run, wait };
}

/** The pids of the processes whose command name is `comm` (e.g. every RabbitMQ node's beam.smp). */
function pidsNamed(comm) {
  const pids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (/^\d+$/.test(entry) && (read(`/proc/${entry}/comm`) || '').trim() === comm) pids.push(Number(entry));
  }
  return pids;
}

const sum = (values) => (values.some((v) => v === null) ? null : values.reduce((a, b) => a + b, 0));

/**
 * A snapshot of the CPU used so far: `{ worker, workerWait, broker, redis, client }` in µs.
 * `who`: `{ worker: pid, broker: [pids] (RabbitMQ, or none on Redis), redis: pid }`.
 */
function cpuSnapshot(who) {
  const own = process.cpuUsage();
  const sched = schedMicros(who.worker);
  return {
    worker: processCpuMicros(who.worker),
    workerWait: sched && sched.wait,
    broker: sum(who.broker.map(processCpuMicros)),
    redis: processCpuMicros(who.redis),
    client: own.user + own.system,
  };
}

/** CPU per task between two snapshots, `n` tasks apart (null where a figure is missing). */
function cpuPerTask(before, after, n) {
  const per = {};
  for (const key of Object.keys(before)) {
    per[key] = before[key] === null || after[key] === null || n <= 0 ? null : (after[key] - before[key]) / n;
  }
  return per;
}

module.exports = { cpuSnapshot, cpuPerTask, pidsNamed };
