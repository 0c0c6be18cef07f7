/// <reference types="node" />
// Type declarations for the public entry of celery-native (index.js).
//
// They follow celery-node 0.5.9's shipped typings (`createClient`/`createWorker`, and the
// `Client`, `Task`, `AsyncResult`, `Worker`, `CeleryConf`, `CeleryBroker`, `CeleryBackend`
// shapes), describe what this package's runtime really does where it differs, and re-export the
// classes that index.js exports by name. There is no default export: index.js has none.
// `import celery from 'celery-native'` still works in Node ESM (.mjs), where the default import of
// a CommonJS module is `module.exports`; TypeScript code compiled to CommonJS should use
// `import * as celery from 'celery-native'` or named imports.

import Base from './dist/app/base';

/**
 * Options passed to the broker / result backend connection (`conf.CELERY_BROKER_OPTIONS`,
 * `conf.CELERY_BACKEND_OPTIONS`). Redis URLs read the ioredis keys (`password`, `username`, `db`,
 * `connectTimeout`, `tls`); AMQP URLs read amqplib's socket options (`ca`, `cert`, `key`,
 * `timeout`) plus `connectTimeout`, `heartbeat`, `queueArguments`, `passive`, `connectionName`
 * and, for celery-node's `amqp://` result backend, `CELERY_RESULT_EXPIRES`. Other keys are accepted
 * and ignored. The `rpc://` backend uses `CELERY_BROKER_OPTIONS`.
 */
export interface TransportOptions {
  /** Redis: wins over the URL's password. (AMQP credentials come only from the URL.) */
  password?: string;
  /** Redis: wins over the URL's user name. */
  username?: string;
  /** Redis database number; a `/db` in the URL is used when absent. */
  db?: number;
  /**
   * Milliseconds, default 10,000. Redis: limits connecting, and how long a failed write keeps
   * retrying. AMQP: limits one attempt to connect to one URL (wins over `timeout`).
   */
  connectTimeout?: number;
  /** TLS settings (rediss:// only; AMQP ignores this key and takes `ca`, `cert`, ... at the top level). PEM text or Buffers. */
  tls?: {
    ca?: string | Buffer | Array<string | Buffer>;
    cert?: string | Buffer | Array<string | Buffer>;
    key?: string | Buffer | Array<string | Buffer>;
    rejectUnauthorized?: boolean;
    /** Any function here (commonly `() => undefined`) turns off the hostname check. */
    checkServerIdentity?: (...args: any[]) => any;
    [key: string]: any;
  };
  /**
   * AMQP (amqplib socket options) for amqps://, as PEM text or Buffers: `ca` replaces the system's
   * root certificates for checking the server; `cert` and `key` (given together) are a client
   * certificate and its key.
   */
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** AMQP (amqps://): the name the server's certificate must carry (and the SNI sent), if not the URL's host. */
  servername?: string;
  /** AMQP (amqps://): `false` accepts any server certificate. Default: the certificate is verified. */
  rejectUnauthorized?: boolean;
  /** AMQP: connect timeout in milliseconds (amqplib's name); default 10,000. */
  timeout?: number;
  /** AMQP: heartbeat in whole seconds (default 120, Celery's `broker_heartbeat`); a `?heartbeat=` URL parameter wins. */
  heartbeat?: number;
  /**
   * AMQP: the arguments every task queue is declared with. They must equal the workers' (e.g.
   * `{ 'x-max-priority': 10 }`, `{ 'x-queue-type': 'quorum' }`), or RabbitMQ refuses the
   * declaration (406) and the message fails with `ERR_CELERY_PUBLISH_FAILED`.
   */
  queueArguments?: Record<string, unknown>;
  /** AMQP: declare nothing, only check that each queue exists (the workers own the topology). */
  passive?: boolean;
  /** AMQP: the connection name RabbitMQ shows (management UI, `rabbitmqctl list_connections`); default `"celery-native"`. */
  connectionName?: string;
  /** celery-node's `amqp://` result backend: `x-expires` of its per-task result queues, in ms (default one day). */
  CELERY_RESULT_EXPIRES?: number;
  [key: string]: any;
}

/**
 * The per-instance configuration object (`client.conf`). It is a plain mutable object; changes
 * to the URLs and options made before the broker/backend is first used take effect, and
 * `CELERY_QUEUE` / `TASK_PROTOCOL` are read at every send.
 */
export interface CeleryConf {
  /**
   * Broker URL. Default `"amqp://"` (RabbitMQ at `guest:guest@localhost:5672`, vhost `/`).
   * Supported: `amqp://`, `pyamqp://`, `amqps://`, several AMQP URLs separated by `;` (tried in
   * order), `redis://`, `rediss://`, `redis+socket://`. Anything else
   * throws `"Unsupported type: <scheme>"` at first use.
   */
  CELERY_BROKER: string;
  /** Broker connection options; also used by the `rpc://` backend. */
  CELERY_BROKER_OPTIONS: TransportOptions;
  /**
   * Result backend URL. Default `"amqp://"`: celery-node's own AMQP result backend (one queue per
   * task), which celery-node workers write and Python Celery 5 workers do not. Also supported:
   * `rpc://` (Celery's RPC backend; needs an AMQP broker), `redis://`, `rediss://`,
   * `redis+socket://`, `socket://`, and the AMQP URLs listed for `CELERY_BROKER`.
   */
  CELERY_BACKEND: string;
  /** Backend connection options; ignored with `rpc://` (which uses `CELERY_BROKER_OPTIONS`). */
  CELERY_BACKEND_OPTIONS: TransportOptions;
  /** Default queue (routing key) for sent tasks. Default `"celery"`. */
  CELERY_QUEUE: string;
  /** Celery message protocol, `1` or `2` (default `2`); anything else makes `sendTask` throw. */
  TASK_PROTOCOL: number;
  /** Celery's `task_routes` (not set by default): names or globs → a queue or a route; read at every send. */
  TASK_ROUTES?: TaskRoutes;
  /** Celery's `result_expires` in seconds (not set: one day; 0: Redis keys never expire); read when the backend is first used. */
  RESULT_EXPIRES?: number;
}

/** Where a route sends a task; options given with the call win. */
export interface TaskRoute {
  queue?: string;
  exchange?: string;
  routing_key?: string;
  routingKey?: string;
  priority?: number;
}
export type TaskRouter = (name: string, args: any[], kwargs: object | null) => TaskRoute | string | null | undefined;
export type TaskRoutes = { [nameOrGlob: string]: TaskRoute | string } | Array<{ [nameOrGlob: string]: TaskRoute | string } | TaskRouter> | TaskRouter;

/** A fresh copy of the default configuration. */
export declare function defaultConf(): CeleryConf;

/** What `client.broker` returns (a `RedisBroker` or an `AMQPBroker`). */
export interface CeleryBroker {
  /**
   * The client's oid, written as `reply_to` on every message (unless the call's `replyTo`
   * option names another queue); with `rpc://` results, the name of the client's reply queue.
   */
  readonly replyTo: string;
  /** Resolves once the broker answers; rejects with a `CeleryError` (`ERR_CELERY_BROKER_UNREACHABLE`). */
  isReady(): Promise<any>;
  /**
   * Sends what is still queued (on RabbitMQ: until each message is confirmed or failed, at most
   * 30 s), then closes the connection. Later sends fail with `ERR_CELERY_DISCONNECTED`. Known
   * issue: the AMQP broker's connection is not closed in this version (it stays open, idle).
   */
  disconnect(): Promise<any>;
}

/**
 * What `client.backend` returns, and what `new AsyncResult(id, backend)` reads results from.
 * `getTaskMeta` resolves with the stored result meta (an object with at least `status` and
 * `result`), or `null` when nothing is stored yet. The `rpc://` backend (`RpcBackend`) has no
 * `storeResult`: its results are sent by workers.
 */
export interface CeleryBackend {
  isReady(): Promise<any>;
  disconnect(): Promise<any>;
  storeResult(taskId: string, result: any, state: string): Promise<any>;
  getTaskMeta(taskId: string): Promise<any>;
  /**
   * Optional: what `result.forget()` calls. This package's backends have it (Redis deletes the
   * stored result; `rpc://` and celery-node's `amqp://` drop the state kept in memory). Without
   * it, `forget()` only clears the result's own cache.
   */
  forget?(taskId: string): Promise<any>;
}

/**
 * A task state as the result backend holds it (Celery's result meta): what `result.states()`
 * yields, what `result.onProgress()` listeners receive, and what `client.backend.getTaskMeta()`
 * resolves with. Values kombu tags (`{"__type__": ..., "__value__": ...}`) are already decoded:
 * `datetime` → `Date`, `uuid` → string, `base64` → `Buffer`, others (`date`, `time`, `decimal`,
 * `bytes`) → their `__value__` text.
 */
export interface ResultMeta {
  /**
   * `STARTED` (when the worker tracks it), `RETRY`, `PROGRESS` or any state the task passes to
   * `update_state`; then one of the ready states `SUCCESS`, `FAILURE`, `REVOKED`. `PENDING` is
   * never stored: nothing stored means pending.
   */
  status: string;
  /**
   * `SUCCESS`: the return value. `FAILURE` / `REVOKED`: the exception as
   * `{ exc_type, exc_message, exc_module }`. `PROGRESS` and other custom states: the `meta` dict
   * passed to `update_state` (or `null`).
   */
  result: any;
  /** Python: the formatted traceback on `FAILURE`, otherwise `null`. */
  traceback: any;
  /** Python: the results of tasks this task started (Celery's serialized form). */
  children: any[];
  /** ISO 8601 time the state was stored. Python's `rpc://` replies have none. */
  date_done?: string | null;
  task_id: string;
  /** With Python's `result_extended`: `name`, `args`, `kwargs`, `worker`, `retries`, `queue`. */
  [key: string]: any;
}

/** Options of `client.revoke()` / `result.revoke()` (Python's `revoke(..., terminate=, signal=)`). */
export interface RevokeOptions {
  /**
   * Also kill the task if a worker is running it (default `false`: a running task finishes; only
   * tasks not yet started are discarded).
   */
  terminate?: boolean;
  /**
   * The signal `terminate` sends, as an upper-case name Celery knows (`'SIGTERM'`, the default;
   * `'SIGKILL'`, `'SIGUSR1'`, ...).
   */
  signal?: string;
}

/** One entry of `client.sendTasks([...])`: `client.sendTask`'s arguments as an object. */
export interface BulkTask {
  /** The task name. */
  name: string;
  /** Positional arguments; default `[]`. */
  args?: any[] | null;
  /** Keyword arguments; default `{}`. */
  kwargs?: Record<string, any> | null;
  /** The task id; default `options.taskId`, else a new uuid4. */
  taskId?: string | null;
  /** Per-call options, as for `sendTask`. */
  options?: SendOptions;
}

/**
 * Per-call options: the 3rd argument of `task.applyAsync(args, kwargs, options)` and the 5th of
 * `client.sendTask(name, args, kwargs, taskId, options)`. Names follow Python Celery's
 * `apply_async`, camelCased. Invalid values throw a `TypeError` with code
 * `ERR_CELERY_INVALID_OPTION` synchronously.
 */
export interface SendOptions {
  /** Queue (routing key) for this message instead of `conf.CELERY_QUEUE`. */
  queue?: string;
  /** Seconds from now before the task may run. */
  countdown?: number;
  /** Earliest run time: a Date or an ISO 8601 string. */
  eta?: Date | string;
  /** Expiry: seconds from now (number), or an absolute time (Date or ISO 8601 string). */
  expires?: number | Date | string;
  /** Message priority, an integer from 0 to 255. */
  priority?: number;
  /** Hard time limit in seconds. */
  timeLimit?: number;
  /** Soft time limit in seconds. */
  softTimeLimit?: number;
  /** Retry count already spent (the `retries` header). */
  retries?: number;
  /** Name shown for the task in logs and monitors instead of its real name. */
  shadow?: string;
  /** Ask the worker not to store the result. */
  ignoreResult?: boolean;
  /** Extra message headers (must be JSON-serialisable). */
  headers?: Record<string, any>;
  /**
   * The message's `reply_to` (Python's `reply_to`) instead of the client's oid
   * (`client.broker.replyTo`): where `rpc://` results of this task are sent. This client's own
   * `rpc://` backend then never sees them: its `get()` only waits.
   */
  /** `'zlib'` or `'gzip'` (the same zlib stream in kombu): compresses the body, as `apply_async(compression=...)`. */
  compression?: 'zlib' | 'gzip';
  /**
   * A named exchange to publish to, with `routingKey`, as `apply_async(exchange=...,
   * routing_key=...)`. Its bindings pick the queues; a key no queue is bound with rejects `sent`
   * with `ERR_CELERY_UNROUTABLE`. One without the other is ignored (the task goes to its queue),
   * as in Celery.
   */
  exchange?: string;
  routingKey?: string;
  replyTo?: string;
  /**
   * Signature(s) a worker applies to the task's return value once it succeeds (Python's `link`):
   * the value is prepended to the callback's args unless it is immutable (`task.si(...)`).
   *
   * With `link` or `linkError` the message is built the way a signature is sent (see
   * `SignatureOptions`): only the options listed there are accepted (`eta` and `retries` then
   * throw `ERR_CELERY_INVALID_OPTION`), `expires` must be a number of seconds, and the message is
   * protocol 2 whatever `TASK_PROTOCOL` says.
   */
  link?: Signature | Signature[];
  /**
   * Signature(s) a worker applies when the task fails (Python's `link_error`). A Python errback
   * whose function takes one argument is sent as a task with the failed task's id; one taking
   * `(request, exc, traceback)` is run inside the worker. Same restrictions as `link`.
   */
  linkError?: Signature | Signature[];
  /**
   * The task id (Python's `task_id`); default a new uuid4. Read on every path (`applyAsync`,
   * `delay` through `createTask` defaults, `sendTask`, `sendTasks`, with or without `link`);
   * `sendTask`'s own `taskId` argument wins over it.
   */
  taskId?: string;
}

/**
 * Options a signature carries (`task.s(...).set(options)`, `client.signature(..., options)`,
 * `signature.applyAsync(args, kwargs, options)`): Python's `apply_async` names, camelCased, that a
 * signature may hold. Any other key throws a `TypeError` with code `ERR_CELERY_INVALID_OPTION`
 * when the signature is sent (or turned into a dict), not when it is set.
 */
export interface SignatureOptions {
  /** The task id (Python's `task_id`); default a new uuid4. */
  taskId?: string;
  /**
   * Queue (routing key) for this task. Default: `conf.CELERY_QUEUE` of the client that sends the
   * canvas, written into every signature without a queue (unless that queue is `"celery"`), so
   * the tasks a worker sends on (chain steps, chord bodies, callbacks) reach the same workers.
   */
  queue?: string;
  /** Seconds from now before the task may run. */
  countdown?: number;
  /** Message priority, 0 to 255. */
  priority?: number;
  /** Expiry in seconds from now (only a number here; a Date is not read). */
  expires?: number;
  /** Hard time limit in seconds. */
  timeLimit?: number;
  /** Soft time limit in seconds. */
  softTimeLimit?: number;
  /** Ask the worker not to store the result. */
  ignoreResult?: boolean;
  /** Name shown for the task in logs and monitors instead of its real name. */
  shadow?: string;
  /** Extra message headers (must be JSON-serialisable). */
  headers?: Record<string, any>;
  /** The message's `reply_to` (Python's `reply_to`); see `SendOptions.replyTo`. */
  replyTo?: string;
  /** Callback signature(s) on success (Python's `link`); see `SendOptions.link`. */
  link?: Signature | Signature[];
  /** Callback signature(s) on failure (Python's `link_error`); see `SendOptions.linkError`. */
  linkError?: Signature | Signature[];
}

/**
 * A signature as Celery's own dict (what `toDict()` returns and what travels in messages):
 * options carry Celery's snake_case names (`task_id`, `link_error`, ...).
 */
export interface SignatureDict {
  task: string;
  args: any[];
  kwargs: Record<string, any>;
  options: Record<string, any>;
  /** `null` for a task; `"chain"`, `"group"` or `"chord"` for a canvas (`task` is then `celery.<kind>`). */
  subtask_type: null | 'chain' | 'group' | 'chord';
  immutable: boolean;
}

/**
 * The `code` values used on errors thrown or rejected by celery-native:
 * - `ERR_CELERY_UNSUPPORTED_SCHEME`: `Error("Unsupported type: <scheme>")`, thrown synchronously
 *   by the first use of `client.broker` / `client.backend` (not by `createClient`).
 * - `ERR_CELERY_INVALID_URL`: a broker/backend URL that cannot be parsed (including a bad AMQP
 *   `heartbeat` / `connect_timeout` / `connection_timeout` parameter); thrown at first use.
 * - `ERR_CELERY_INVALID_OPTION`: a bad `SendOptions` value or a bad `TASK_PROTOCOL` (both
 *   `TypeError`s, thrown synchronously), or a bad connection option (e.g. an unreadable TLS file,
 *   `cert` without `key`), or `rpc://` results without an AMQP broker, or `result.states()` /
 *   `onProgress()` with celery-node's `amqp://` backend. Canvas: an option a
 *   signature cannot carry (`TypeError`), or a canvas this version cannot send (e.g. a group in
 *   the middle of a chain; an `Error`), both thrown synchronously by `applyAsync` / `delay`; a
 *   chord with a result backend other than Redis rejects `sent` (nothing is published).
 * - `ERR_CELERY_INVALID_ARGUMENT`: `applyAsync` with non-array args (`"args is not array"`) or
 *   non-object kwargs (`"kwargs is not object"`); `new Signature` with non-array args; a chord
 *   header that is neither a list nor a group, or a `link` / `linkError` that is not a signature
 *   (`TypeError`s); a canvas without any signature (`chain()`); `sendTasks` with something other
 *   than an array or an entry without a `name` (`TypeError`s); `result.revoke()` on a result
 *   that has no `client` (a rejection).
 * - `ERR_CELERY_NOT_JSON` (`TypeError`): args/kwargs that JSON cannot carry (functions,
 *   symbols, BigInt, cycles).
 * - `ERR_CELERY_BROKER_UNREACHABLE` / `ERR_CELERY_BACKEND_UNREACHABLE`: connection failures
 *   (`isReady()`, `result.sent`, `result.get()`, `status()`, `client.revoke()`, the client's
 *   `'error'` event). On
 *   RabbitMQ, a message fails this way after about 30 s of reconnecting, or after the connect
 *   timeout if RabbitMQ was never reached.
 * - `ERR_CELERY_PUBLISH_FAILED`: the broker refused the message: an error reply from Redis, or on
 *   RabbitMQ a refused queue declaration (406 PRECONDITION_FAILED; 404 NOT_FOUND with `passive`)
 *   or a nack (only that message fails; the client keeps working), or no confirm within 30 s
 *   while `disconnect()` waits for it. Also a `revoke` broadcast RabbitMQ refused.
 * - `ERR_CELERY_UNROUTABLE`: RabbitMQ returned the (mandatory) message because no queue took it,
 *   e.g. the queue was deleted after this connection declared it.
 * - `ERR_CELERY_BACKEND`: the Redis result backend answered with an error, or cannot push
 *   states to `result.states()` (no RESP3 pub/sub).
 * - `ERR_CELERY_DECODE`: a stored result could not be decoded.
 * - `ERR_CELERY_TIMEOUT`: `result.get(timeout)` timed out; the message is `"TIMEOUT"`.
 * - `ERR_CELERY_TASK_FAILED` / `ERR_CELERY_TASK_REVOKED`: `result.get()` saw FAILURE / REVOKED;
 *   the message is the status, and the stored result's keys (`exc_type`, `exc_message`,
 *   `exc_module` from a Python worker) are copied onto the error.
 * - `ERR_CELERY_DISCONNECTED`: the client was disconnected while the operation was pending.
 * - `ERR_CELERY_NOT_SUPPORTED`: a feature this version does not provide.
 */
export type CeleryErrorCode =
  | 'ERR_CELERY_UNSUPPORTED_SCHEME'
  | 'ERR_CELERY_INVALID_URL'
  | 'ERR_CELERY_INVALID_OPTION'
  | 'ERR_CELERY_INVALID_ARGUMENT'
  | 'ERR_CELERY_NOT_JSON'
  | 'ERR_CELERY_BROKER_UNREACHABLE'
  | 'ERR_CELERY_BACKEND_UNREACHABLE'
  | 'ERR_CELERY_PUBLISH_FAILED'
  | 'ERR_CELERY_BACKEND'
  | 'ERR_CELERY_UNROUTABLE'
  | 'ERR_CELERY_DECODE'
  | 'ERR_CELERY_TIMEOUT'
  | 'ERR_CELERY_TASK_FAILED'
  | 'ERR_CELERY_TASK_REVOKED'
  | 'ERR_CELERY_DISCONNECTED'
  | 'ERR_CELERY_NOT_SUPPORTED';

/**
 * Shape of the errors celery-native throws and rejects with (plain `Error`/`TypeError`
 * instances with extra properties; there is no CeleryError class at runtime).
 */
export interface CeleryError extends Error {
  /** One of `CeleryErrorCode`. A task failure's stored result may carry its own `code`. */
  code: CeleryErrorCode | (string & {});
  /** The task concerned, on publish, timeout and task failure errors. */
  taskId?: string;
  /** Python task failures: the exception class name. */
  exc_type?: string;
  /** Python task failures: the exception arguments. */
  exc_message?: any;
  /** Python task failures: the exception's module. */
  exc_module?: string;
  /** The stored traceback, when the result meta has one. */
  traceback?: any;
}

/**
 * A handle on one task's result. Created by `applyAsync`/`delay`/`sendTask`/`asyncResult`, or
 * directly with `new AsyncResult(taskId, client.backend)` (any object with `getTaskMeta` works).
 */
export declare class AsyncResult {
  taskId: string;
  backend: CeleryBackend;
  private _final;
  private _sendState;
  constructor(taskId: string, backend: CeleryBackend);
  /**
   * The client that made this result (`sendTask`, `sendTasks`, `applyAsync`, `delay`,
   * `asyncResult`, canvases); `revoke()` sends through it. Not enumerable, read-only, and
   * undefined for `new AsyncResult(id, backend)`.
   */
  readonly client?: Client;
  /**
   * Set on the result of a chain or a chord (`applyAsync()` of `chain(...)` / `chord(...)`): the
   * result before this one. A chain's last result links back step by step to its first task
   * (whose `parent` is undefined); a chord's body result links to the last header task, that one
   * to the header task before it, and so on to the first. Undefined elsewhere.
   */
  parent?: AsyncResult;
  /**
   * Resolves with the task id once the broker has the message (on RabbitMQ: once it has confirmed
   * it); rejects with the publish error (`ERR_CELERY_PUBLISH_FAILED`, `ERR_CELERY_UNROUTABLE`,
   * `ERR_CELERY_BROKER_UNREACHABLE`, ...). Resolves at once for results that were not sent by
   * this client.
   */
  readonly sent: Promise<string>;
  /**
   * Waits for SUCCESS, FAILURE or REVOKED. Resolves with the result on SUCCESS; rejects with a
   * `CeleryError` whose message is the status otherwise, or `"TIMEOUT"` after `timeout` ms
   * (a falsy `timeout` waits forever). With Redis and `rpc://` results the wait is push-based;
   * `interval` (ms, default 500) is the polling period for celery-node's `amqp://` backend,
   * backends you supply, and Redis without pub/sub. Once a final state has been seen, no further
   * backend call is made.
   */
  get(timeout?: number, interval?: number): Promise<any>;
  /** One lookup, no waiting: the stored result, or `null` when nothing is stored. */
  result(): Promise<any>;
  /** One lookup, no waiting: the stored status, or `null` (not `"PENDING"`) when nothing is stored. */
  status(): Promise<string | null>;
  /**
   * Every state the task goes through, as it happens (Python's `result.get(on_message=...)`,
   * as a loop): first the state stored now (if any), then each new one (`STARTED`, `PROGRESS`
   * with its meta, `RETRY`, ...). Pushed, never polled: over Redis pub/sub, or from the `rpc://`
   * reply queue (only for tasks this client sent). The generator ends after a ready state
   * (`SUCCESS`, `FAILURE`, `REVOKED`; it is yielded, not thrown), when the loop is left, or,
   * without a ready state, when the client disconnects. A state repeated after a reconnect is
   * yielded once. It does not report publish failures (check `sent`) and has no timeout.
   *
   * The loop throws `ERR_CELERY_INVALID_OPTION` with celery-node's `amqp://` backend (which can
   * only be polled), and `ERR_CELERY_BACKEND` when Redis offers no pub/sub (RESP3). Backends you
   * supply cannot be watched (a plain `TypeError`).
   */
  states(): AsyncGenerator<ResultMeta, void, undefined>;
  /**
   * Calls `listener(meta)` for every state `states()` yields, the ready state included. Returns
   * a function that stops listening: the listener is not called again, and the subscription is
   * released when the next state arrives or the client disconnects. Errors (a backend that
   * cannot be watched, an error thrown by `listener`) end the listening and go to `onError`;
   * without `onError` they are dropped.
   */
  onProgress(listener: (meta: ResultMeta) => void, onError?: (error: CeleryError) => void): () => void;
  /**
   * Revokes the task (Python's `result.revoke(terminate=, signal=)`): `client.revoke([taskId],
   * options)`. Resolves once the broadcast is sent; no reply is awaited. Rejects with
   * `ERR_CELERY_INVALID_ARGUMENT` when the result has no `client`.
   */
  revoke(options?: RevokeOptions): Promise<void>;
  /**
   * Forgets the result (Python's `result.forget()`, but not the `parent` results): clears this
   * object's cache and calls `backend.forget(taskId)`. Redis deletes `celery-task-meta-<id>`;
   * `rpc://` and celery-node's `amqp://` drop what they hold in memory. Later lookups find
   * nothing (`status()` is `null`).
   */
  forget(): Promise<void>;
}

/** A named task bound to a client. */
export declare class Task {
  client: Client;
  name: string;
  /**
   * Options every call of this task gets (`client.createTask(name, defaultOptions)`): a copy,
   * merged under each call's own options. Undefined when none were given.
   */
  defaultOptions?: SendOptions;
  constructor(client: Client, name: string, defaultOptions?: SendOptions);
  /**
   * `delay(a, b)` is `applyAsync([a, b])`. A trailing object is a positional argument, not
   * kwargs.
   */
  delay(...args: any[]): AsyncResult;
  /**
   * Sends the task; returns its AsyncResult synchronously without waiting for the broker.
   * Throws `"args is not array"` / `"kwargs is not object"` (`ERR_CELERY_INVALID_ARGUMENT`).
   * Missing args/kwargs default to `[]` / `{}`. `options` are merged over `defaultOptions`
   * (key by key: a key given here wins, even when its value is `undefined`).
   */
  applyAsync(args?: any[] | null, kwargs?: object | null, options?: SendOptions): AsyncResult;
  /**
   * A signature of this task with partial args (Python's `task.s(...)`): in a chain, a chord body
   * or a callback, the previous result is prepended to them. It carries `defaultOptions` as its
   * options: one a signature cannot carry (`eta`, `retries`) makes it throw
   * `ERR_CELERY_INVALID_OPTION` when it is sent.
   */
  s(...args: any[]): Signature;
  /** An immutable signature (Python's `task.si(...)`): the previous result is not prepended. */
  si(...args: any[]): Signature;
}

/**
 * The task-sending client. It is an EventEmitter: publish failures are emitted as `'error'`
 * (a `CeleryError`) when an `'error'` listener is attached, and are otherwise only reported
 * through `result.sent` / `result.get()`.
 */
/** How values cross between JS and Python (`createClient`'s 4th argument, or `client.options`). */
export interface ClientOptions {
  /** Decode kombu's `__type__` markers in results: datetime → `Date`, uuid → string, base64 → `Buffer`, others → their text. Default: false (plain `JSON.parse`). */
  decodeTypes?: boolean;
  /** Integers beyond 2^53 in results become `BigInt`s. Default: false (plain `JSON.parse`). */
  bigInt?: boolean;
  /** `'datetime'` (default): `Date` arguments travel as kombu datetimes, Python tasks get `datetime`s; `'string'`: ISO strings, as celery-node. */
  dates?: 'datetime' | 'string';
  /** Python's `task_send_sent_event`: a `task-sent` event after each task, for Flower / `celery events`. Read when the broker is first used. */
  sendSentEvent?: boolean;
}

export declare class Client extends Base {
  constructor(broker?: string, backend?: string, queue?: string, options?: ClientOptions);
  options: ClientOptions;
  /**
   * A task by name. `defaultOptions` (queue, priority, expires, ...) apply to every call of it
   * (`applyAsync`, `delay`, and `s` / `si` signatures), like the options of Python's
   * `@app.task(queue=..., priority=...)`; a call's own options win, key by key. They are checked
   * when a call sends them, not here.
   */
  createTask(name: string, defaultOptions?: SendOptions): Task;
  /**
   * Sends many tasks in one call and returns their AsyncResults in order, synchronously (as a
   * loop of Python's `app.send_task(name, args, kwargs, task_id=, **options)`). Unlike
   * `sendTask`, `args` / `kwargs` default to `[]` / `{}`. Every message is queued before any is
   * written, so they go out in pipelined batches. Checked for every entry before anything is
   * queued: the array (`TypeError`, `ERR_CELERY_INVALID_ARGUMENT`), each `name` (`TypeError`),
   * each `args` (`"args is not array"`), args / kwargs JSON (`ERR_CELERY_NOT_JSON`). Options are
   * checked as each entry is queued: a bad option throws `ERR_CELERY_INVALID_OPTION` after the
   * entries before it were queued (they are still sent).
   */
  sendTasks(tasks: ReadonlyArray<BulkTask>): AsyncResult[];
  /**
   * Revokes tasks (Python's `app.control.revoke(task_ids, terminate=, signal=)`): a `revoke`
   * broadcast on the `celery.pidbox` fanout exchange (on Redis, a PUBLISH on
   * `/<db>.celery.pidbox`), on a connection of its own. Every worker online adds the ids to its
   * revoked set and discards those tasks when they come up (stored as `REVOKED`,
   * `TaskRevokedError`); with `terminate`, a running one is killed with `signal`. Workers that are
   * offline never see it. Resolves once the broadcast is sent (no replies are awaited); rejects
   * with `ERR_CELERY_BROKER_UNREACHABLE` or `ERR_CELERY_PUBLISH_FAILED`.
   */
  revoke(taskIds: string | readonly string[], options?: RevokeOptions): Promise<void>;
  /** An AsyncResult for an existing task id, bound to this client's backend. */
  asyncResult(taskId: string): AsyncResult;
  /**
   * Sends a task by name and returns its AsyncResult synchronously. `taskId` defaults to a new
   * uuid4. Unlike `applyAsync`, args/kwargs are not defaulted (missing kwargs travel as `null`).
   */
  sendTask(taskName: string, args?: any[] | null, kwargs?: object | null, taskId?: string | null, options?: SendOptions): AsyncResult;
  /**
   * A signature of a task by name (Python's `app.signature(name, args, kwargs, **options)`).
   * Throws `ERR_CELERY_INVALID_ARGUMENT` when `args` is not an array.
   */
  signature(name: string, args?: any[], kwargs?: Record<string, any> | null, options?: SignatureOptions): Signature;
}

/**
 * A task with (partial) arguments and options, as Python's `Signature`: what `task.s(...)`,
 * `task.si(...)` and `client.signature(...)` return, and what `chain`, `group`, `chord`, `link`
 * and `linkError` take.
 */
export declare class Signature {
  /** The client that sends it (and a canvas starting with it). */
  client: Client;
  /** The task name. */
  task: string;
  args: any[];
  kwargs: Record<string, any>;
  options: SignatureOptions;
  /** `true` for `task.si(...)`: the previous result is not prepended to `args`. */
  immutable: boolean;
  /** Throws `ERR_CELERY_INVALID_ARGUMENT` (`"args is not array"`) when `args` is not an array. */
  constructor(
    client: Client,
    task: string,
    args?: any[],
    kwargs?: Record<string, any> | null,
    options?: SignatureOptions,
    flags?: { immutable?: boolean },
  );
  /** Adds options and returns the signature itself (Python's `.set()`); checked when sent. */
  set(options: SignatureOptions): this;
  /** Celery's dict for it; throws `ERR_CELERY_INVALID_OPTION` for an option it cannot carry. */
  toDict(): SignatureDict;
  /**
   * Sends the task (Python's `sig.apply_async(args, kwargs, **options)`): `args` are appended to
   * the signature's, `kwargs` and `options` merged over its own. Returns at once; the message is
   * protocol 2. Throws synchronously as `SignatureOptions` describes.
   */
  applyAsync(args?: any[], kwargs?: Record<string, any>, options?: SignatureOptions): AsyncResult;
  /** `delay(a, b)` is `applyAsync([a, b])` (Python's `sig.delay(a, b)`). */
  delay(...args: any[]): AsyncResult;
  /** Sends the signature as it is. */
  send(): AsyncResult;
}

/**
 * What `chain()`, `group()` and `chord()` return (one class at runtime, not exported by name).
 * Nothing is sent until `applyAsync()` / `delay()`, which plan the whole canvas first: a canvas
 * this version cannot send throws `ERR_CELERY_INVALID_OPTION` synchronously and nothing is sent.
 * Every message is protocol 2. Signatures without their own `queue` go to the sending client's
 * `conf.CELERY_QUEUE` when it is not `"celery"` (see `SignatureOptions.queue`).
 */
export interface Canvas<Kind extends 'chain' | 'group' | 'chord' = 'chain' | 'group' | 'chord', R extends AsyncResult | GroupResult = AsyncResult | GroupResult> {
  kind: Kind;
  /** The members: a chain's steps, a group's tasks, or a chord's header tasks followed by its body. */
  signatures: Array<Signature | Group>;
  /** The client of the first signature; it sends the canvas. */
  readonly client: Client;
  /** Celery's dict for it (`celery.chain` / `celery.group` / `celery.chord`). */
  toDict(): SignatureDict;
  /** Sends the canvas and returns at once (takes no arguments). */
  applyAsync(): R;
  /** The same as `applyAsync()`. */
  delay(): R;
}

/**
 * `chain(...)`: `applyAsync()` returns the last task's AsyncResult, its `parent` links going back
 * to the first task. Only the first task is published by this client (the rest travel inside its
 * message and are sent by workers). The results of the later steps follow that publish: their
 * `sent` settles when the first task's does, and a publish failure rejects their `sent` and
 * `get()` as well. A chain of a group and
 * one task is sent as a chord (as Python does); a chain of only a group as that group
 * (`Chain<GroupResult>`).
 */
export interface Chain<R extends AsyncResult | GroupResult = AsyncResult> extends Canvas<'chain', R> {}

/** `group(...)`: `applyAsync()` returns a `GroupResult`. */
export interface Group extends Canvas<'group', GroupResult> {
  signatures: Signature[];
}

/**
 * `chord(header, body)`: `applyAsync()` returns the body's AsyncResult, its `parent` links going
 * through the header tasks from the last to the first. The body is sent by a worker once every
 * header task has finished; the result's `sent` resolves (with the body's id) once every header
 * task reached the broker, and rejects (as does its `get()`) if one could not be published. The
 * Redis result backend is told the chord's size before the header is published. Other backends
 * (`rpc://`, celery-node's `amqp://`) cannot run chords: nothing is published, every `sent` (and
 * the body's `get()`) rejects with `ERR_CELERY_INVALID_OPTION` and the client emits `'error'`
 * (once, when it has a listener).
 */
export interface Chord extends Canvas<'chord', AsyncResult> {
  signatures: Signature[];
}

/**
 * Tasks run one after another, each receiving the previous result (Python's `chain(a, b, c)` /
 * `a | b | c`). Supported: plain task signatures; a group followed by one task (sent as a
 * chord); a group alone (sent as a group). Arrays are flattened one level.
 */
export declare function chain(group: Group | [Group]): Chain<GroupResult>;
export declare function chain(header: Group, body: Signature): Chain<AsyncResult>;
export declare function chain(tasks: [Group, Signature]): Chain<AsyncResult>;
export declare function chain(...signatures: Array<Signature | Signature[]>): Chain<AsyncResult>;

/**
 * Tasks run in parallel (Python's `group(a, b)` / `group([a, b])`): plain task signatures, given
 * as arguments or as an array. `applyAsync()` returns a `GroupResult`.
 */
export declare function group(...signatures: Array<Signature | Signature[]>): Group;

/**
 * A group whose results, in group order, are passed to `body` once all have finished (Python's
 * `chord(header, body)`). `header` is an array of plain task signatures or a `group(...)`; `body`
 * a plain task signature. Anything else as header throws `ERR_CELERY_INVALID_ARGUMENT`.
 */
export declare function chord(header: Signature[] | Group, body: Signature): Chord;

/** The results of a group (Python's `GroupResult`): one AsyncResult per member, in group order. */
export declare class GroupResult {
  /** The group id (each member's `group` header). */
  id: string;
  results: AsyncResult[];
  constructor(id: string, results: AsyncResult[]);
  /**
   * Every member's value, in group order (`get` of each, with the same `timeout` and `interval`);
   * rejects with the first member error seen.
   */
  get(timeout?: number, interval?: number): Promise<any[]>;
  /** How many members are in `SUCCESS` (one lookup each). */
  completedCount(): Promise<number>;
  /** Whether every member is in `SUCCESS`, `FAILURE` or `REVOKED` (one lookup each). */
  ready(): Promise<boolean>;
  /** Resolves with the group id once every member reached the broker; rejects with the first publish error. */
  readonly sent: Promise<string>;
}

/** Options of a worker (`createWorker`'s 4th argument, or `worker.options` before `start()`). */
export interface WorkerOptions {
  /** Handlers running at once. Absent or 0: unlimited, as celery-node. */
  concurrency?: number;
  /** Messages held unacknowledged at once (RabbitMQ `basic.qos`). Default: 4 × concurrency, or unlimited. */
  prefetch?: number;
  /** Acknowledge after the handler settled (Celery's `acks_late`); default: when it starts. */
  acksLate?: boolean;
  /** Queues to consume. Default: `[conf.CELERY_QUEUE]`, read at `start()`. */
  queues?: string[];
  /** Store `STARTED` when a task starts (Celery's `task_track_started`). */
  trackStarted?: boolean;
  /** Redis: seconds an unacknowledged message stays with a worker before it is redelivered (kombu's `visibility_timeout`, 3600). */
  visibilityTimeout?: number;
  /** Seconds results live in Redis (Celery's `result_expires`, 86400). */
  resultExpires?: number;
  /** Default hard / soft time limits in seconds for tasks that carry none. */
  timeLimit?: number;
  softTimeLimit?: number;
  /** Milliseconds `stop()` lets running tasks finish (default 30000). */
  stopTimeout?: number;
  /** Stop gracefully on SIGTERM / SIGINT. */
  handleSignals?: boolean;
  /** The node name (`celery-native@<host>` by default): in STARTED metas and revoke `destination`s. */
  hostname?: string;
}

/** What a handler gets as `this`: Celery's `self.request`, plus `updateState`, `retry` and a signal. */
export interface TaskContext {
  readonly id: string;
  readonly name: string;
  readonly args: any[];
  readonly kwargs: { [key: string]: any } | null;
  readonly retries: number;
  /** The message headers as sent (protocol 2), e.g. `lang`, `argsrepr`, custom headers. */
  readonly headers: { [key: string]: any };
  /** ISO 8601 timestamps, or null. */
  readonly eta: string | null;
  readonly expires: string | null;
  readonly rootId: string | null;
  readonly parentId: string | null;
  readonly groupId: string | null;
  readonly groupIndex: number | null;
  readonly replyTo: string | null;
  readonly correlationId: string | null;
  /** Seconds, or null. */
  readonly timeLimit: number | null;
  readonly softTimeLimit: number | null;
  readonly deliveryInfo: { routingKey: string; redelivered: boolean };
  readonly hostname: string;
  /** Aborted at the soft time limit (reason `'SoftTimeLimitExceeded'`), the hard one, or a revoke with terminate (`'revoked'`). */
  readonly signal: AbortSignal;
  /** Stores an intermediate state (Celery's `update_state`), `PROGRESS` by default. */
  updateState(state?: string, meta?: any): Promise<void>;
  /** Ends this run and sends the task again with `retries + 1` (Celery's `self.retry`). Always throws. */
  retry(options?: { countdown?: number; exc?: Error; maxRetries?: number | null }): never;
}

/** celery-node's task worker, as a real Celery worker whose tasks are JS functions. */
export declare class Worker extends Base {
  constructor(broker?: string, backend?: string, queue?: string, options?: WorkerOptions);
  options: WorkerOptions;
  handlers: { [name: string]: (...args: any[]) => Promise<any> };
  activeTasks: Set<Promise<any>>;
  /** Called as `handler(...args, kwargs)`, with the task's context as `this`. */
  register(name: string, handler: (this: TaskContext, ...args: any[]) => any): void;
  /** celery-node's: never rejects; on Redis resolves after the worker stopped, on AMQP once it consumes. */
  start(): Promise<any>;
  /** Resolves once the worker consumes; rejects with the connection error. */
  whenStarted(): Promise<void>;
  createTaskHandler(): (message: any) => Promise<any>;
  whenCurrentJobsFinished(): Promise<any[]>;
  /** Graceful shutdown: stop consuming, let running tasks finish (`timeout` ms), store, ack, close. */
  stop(options?: { timeout?: number }): Promise<void>;
  /** Stops at once (running tasks are not waited for) and closes the connections. */
  disconnect(): Promise<any>;
  on(event: 'task-received', listener: (context: TaskContext) => void): this;
  on(event: 'task-succeeded', listener: (context: TaskContext, result: any) => void): this;
  on(event: 'task-failed' | 'task-retried', listener: (context: TaskContext, error: any) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

/** Thrown by `this.retry()`; stored as `celery.exceptions.Retry`. */
export declare class Retry extends Error {
  countdown?: number;
  exc?: Error;
}
/** Thrown by `this.retry()` past `maxRetries`; stored as `celery.exceptions.MaxRetriesExceededError`. */
export declare class MaxRetriesExceededError extends Error {}
/** Stored when a task passes its hard time limit. */
export declare class TimeLimitExceeded extends Error {}

/**
 * Creates a client synchronously. Nothing connects until the broker/backend is first used.
 * Defaults, as celery-node's: broker `"amqp://"` (RabbitMQ at guest:guest@localhost:5672, vhost
 * `/`), backend `"amqp://"` (celery-node's own AMQP result backend, which Python Celery 5 workers
 * do not write: use `"rpc://"` or a Redis URL for their results), queue `"celery"`.
 */
export declare function createClient(broker?: string, backend?: string, queue?: string, options?: ClientOptions): Client;

/** Creates a worker synchronously; it connects on `start()`. Defaults as `createClient`'s. */
export declare function createWorker(broker?: string, backend?: string, queue?: string, options?: WorkerOptions): Worker;
