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
 * `conf.CELERY_BACKEND_OPTIONS`). The keys read are the ioredis ones listed here; other keys
 * are accepted and ignored.
 */
export interface TransportOptions {
  password?: string;
  username?: string;
  /** Redis database number; a `/db` in the URL is used when absent. */
  db?: number;
  /** Milliseconds. */
  connectTimeout?: number;
  /** TLS settings (rediss://). PEM text or Buffers. */
  tls?: {
    ca?: string | Buffer | Array<string | Buffer>;
    cert?: string | Buffer | Array<string | Buffer>;
    key?: string | Buffer | Array<string | Buffer>;
    rejectUnauthorized?: boolean;
    /** Any function here (commonly `() => undefined`) turns off the hostname check. */
    checkServerIdentity?: (...args: any[]) => any;
    [key: string]: any;
  };
  /** AMQP (amqplib socket options): CA, client certificate and key for amqps://, PEM. */
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** AMQP: connect timeout in milliseconds (amqplib's name). */
  timeout?: number;
  /** AMQP: heartbeat in seconds (default 120, as Celery). */
  heartbeat?: number;
  /** AMQP: arguments of every declared queue, equal to the workers' (`x-max-priority`, `x-queue-type`, ...). */
  queueArguments?: Record<string, unknown>;
  /** AMQP: only check that queues exist; the workers own the topology. */
  passive?: boolean;
  [key: string]: any;
}

/**
 * The per-instance configuration object (`client.conf`). It is a plain mutable object; changes
 * to the URLs and options made before the broker/backend is first used take effect, and
 * `CELERY_QUEUE` / `TASK_PROTOCOL` are read at every send.
 */
export interface CeleryConf {
  /** Broker URL. Default `"amqp://"`: `amqp://`, `amqps://`, `pyamqp://` (`;`-separated for failover), `redis://`, `rediss://`, `redis+socket://`. */
  CELERY_BROKER: string;
  CELERY_BROKER_OPTIONS: TransportOptions;
  /** Result backend URL. Default `"amqp://"` (only Redis URLs are supported). */
  CELERY_BACKEND: string;
  CELERY_BACKEND_OPTIONS: TransportOptions;
  /** Default queue (routing key) for sent tasks. Default `"celery"`. */
  CELERY_QUEUE: string;
  /** Celery message protocol, `1` or `2` (default `2`); anything else makes `sendTask` throw. */
  TASK_PROTOCOL: number;
}

/** A fresh copy of the default configuration. */
export declare function defaultConf(): CeleryConf;

/** What `client.broker` returns. */
export interface CeleryBroker {
  /** Resolves once the broker answers; rejects with a `CeleryError` (`ERR_CELERY_BROKER_UNREACHABLE`). */
  isReady(): Promise<any>;
  /** Sends what is still queued, then closes the connection. */
  disconnect(): Promise<any>;
}

/**
 * What `client.backend` returns, and what `new AsyncResult(id, backend)` reads results from.
 * `getTaskMeta` resolves with the stored result meta (an object with at least `status` and
 * `result`), or `null` when nothing is stored yet.
 */
export interface CeleryBackend {
  isReady(): Promise<any>;
  disconnect(): Promise<any>;
  storeResult(taskId: string, result: any, state: string): Promise<any>;
  getTaskMeta(taskId: string): Promise<any>;
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
}

/**
 * The `code` values used on errors thrown or rejected by celery-native:
 * - `ERR_CELERY_UNSUPPORTED_SCHEME`: `Error("Unsupported type: <scheme>")`, thrown synchronously
 *   by the first use of `client.broker` / `client.backend` (not by `createClient`).
 * - `ERR_CELERY_INVALID_URL`: a broker/backend URL that cannot be parsed.
 * - `ERR_CELERY_INVALID_OPTION` (`TypeError`): a bad `SendOptions` value, a bad
 *   `TASK_PROTOCOL`, or a bad connection option (e.g. unreadable TLS file).
 * - `ERR_CELERY_INVALID_ARGUMENT`: `applyAsync` with non-array args (`"args is not array"`) or
 *   non-object kwargs (`"kwargs is not object"`).
 * - `ERR_CELERY_NOT_JSON` (`TypeError`): args/kwargs that JSON cannot carry (functions,
 *   symbols, BigInt, cycles).
 * - `ERR_CELERY_BROKER_UNREACHABLE` / `ERR_CELERY_BACKEND_UNREACHABLE`: connection failures
 *   (`isReady()`, `result.sent`, `result.get()`, the client's `'error'` event).
 * - `ERR_CELERY_PUBLISH_FAILED`: the message could not be written to the broker.
 * - `ERR_CELERY_BACKEND`: the result backend returned an error.
 * - `ERR_CELERY_UNROUTABLE`: RabbitMQ returned the message: no queue took it.
 * - `ERR_CELERY_DECODE`: a stored result could not be decoded.
 * - `ERR_CELERY_TIMEOUT`: `result.get(timeout)` timed out; the message is `"TIMEOUT"`.
 * - `ERR_CELERY_TASK_FAILED` / `ERR_CELERY_TASK_REVOKED`: `result.get()` saw FAILURE / REVOKED;
 *   the message is the status, and the stored result's keys (`exc_type`, `exc_message`,
 *   `exc_module` from a Python worker) are copied onto the error.
 * - `ERR_CELERY_DISCONNECTED`: the client was disconnected while the operation was pending.
 * - `ERR_CELERY_NOT_SUPPORTED`: a feature this version does not provide (the Worker).
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
   * Resolves with the task id once the broker has the message; rejects with the publish error
   * (`ERR_CELERY_PUBLISH_FAILED`, `ERR_CELERY_BROKER_UNREACHABLE`, ...). Resolves at once for
   * results that were not sent by this client.
   */
  readonly sent: Promise<string>;
  /**
   * Waits for SUCCESS, FAILURE or REVOKED. Resolves with the result on SUCCESS; rejects with a
   * `CeleryError` whose message is the status otherwise, or `"TIMEOUT"` after `timeout` ms
   * (a falsy `timeout` waits forever). `interval` (ms, default 500) is the polling period.
   * Once a final state has been seen, no further backend call is made.
   */
  get(timeout?: number, interval?: number): Promise<any>;
  /** One lookup, no waiting: the stored result, or `null` when nothing is stored. */
  result(): Promise<any>;
  /** One lookup, no waiting: the stored status, or `null` (not `"PENDING"`) when nothing is stored. */
  status(): Promise<string | null>;
}

/** A named task bound to a client. */
export declare class Task {
  client: Client;
  name: string;
  constructor(client: Client, name: string);
  /**
   * `delay(a, b)` is `applyAsync([a, b])`. A trailing object is a positional argument, not
   * kwargs.
   */
  delay(...args: any[]): AsyncResult;
  /**
   * Sends the task; returns its AsyncResult synchronously without waiting for the broker.
   * Throws `"args is not array"` / `"kwargs is not object"` (`ERR_CELERY_INVALID_ARGUMENT`).
   * Missing args/kwargs default to `[]` / `{}`.
   */
  applyAsync(args?: any[] | null, kwargs?: object | null, options?: SendOptions): AsyncResult;
}

/**
 * The task-sending client. It is an EventEmitter: publish failures are emitted as `'error'`
 * (a `CeleryError`) when an `'error'` listener is attached, and are otherwise only reported
 * through `result.sent` / `result.get()`.
 */
export declare class Client extends Base {
  createTask(name: string): Task;
  /** An AsyncResult for an existing task id, bound to this client's backend. */
  asyncResult(taskId: string): AsyncResult;
  /**
   * Sends a task by name and returns its AsyncResult synchronously. `taskId` defaults to a new
   * uuid4. Unlike `applyAsync`, args/kwargs are not defaulted (missing kwargs travel as `null`).
   */
  sendTask(taskName: string, args?: any[] | null, kwargs?: object | null, taskId?: string | null, options?: SendOptions): AsyncResult;
}

/**
 * celery-node's task worker.
 *
 * Not available in this version of celery-native: its constructor (and `createWorker`) throws
 * a `CeleryError` with code `ERR_CELERY_NOT_SUPPORTED`. The members below are celery-node's.
 */
export declare class Worker extends Base {
  handlers: object;
  activeTasks: Set<Promise<any>>;
  register(name: string, handler: Function): void;
  start(): Promise<any>;
  createTaskHandler(): Function;
  whenCurrentJobsFinished(): Promise<any[]>;
  stop(): any;
}

/**
 * Creates a client synchronously. Nothing connects until the broker/backend is first used.
 * Defaults: broker `"amqp://"`, backend `"amqp://"`, queue `"celery"` (AMQP is not supported by
 * this version, so pass Redis URLs).
 */
export declare function createClient(broker?: string, backend?: string, queue?: string): Client;

/**
 * Creates a worker.
 * @throws {CeleryError} `ERR_CELERY_NOT_SUPPORTED` in this version of celery-native.
 */
export declare function createWorker(broker?: string, backend?: string, queue?: string): Worker;
