/// <reference types="node" />
// celery-node's `dist/app/base` (default export `Base`, the parent of Client and Worker).
// index.js does not export Base by name, so it is declared here rather than in index.d.ts.

import { EventEmitter } from 'events';
import type { CeleryBackend, CeleryBroker, CeleryConf, CeleryError } from '../../index';

export default class Base extends EventEmitter {
  private _broker;
  private _backend;
  /** This instance's own configuration (see `CeleryConf`). */
  conf: CeleryConf;
  /** Copies the arguments into a fresh `conf`; connects to nothing. */
  constructor(broker?: string, backend?: string, queue?: string);
  /**
   * The broker (a `RedisBroker` or an `AMQPBroker`), created from `conf` on first access. Throws
   * `"Unsupported type: <scheme>"` (`ERR_CELERY_UNSUPPORTED_SCHEME`) for a URL it cannot serve.
   * With `rpc://` results it also declares the client's reply queue (`broker.replyTo`) before
   * the first task.
   */
  get broker(): CeleryBroker;
  /**
   * The result backend, created from `conf` on first access (same errors as `broker`). With
   * `CELERY_BACKEND` `rpc://` it is an `RpcBackend` built from the broker (so this also creates
   * the broker), which has no `storeResult`; it throws `ERR_CELERY_INVALID_OPTION` when the broker
   * is not AMQP.
   */
  get backend(): CeleryBackend;
  /** Resolves once backend and broker answer; rejects with the first connection error. */
  isReady(): Promise<any>;
  /** Closes the broker (after sending what is queued), then the backend; resolves the backend's value. */
  disconnect(): Promise<any>;

  /** `'error'`: a message could not be published (`ERR_CELERY_PUBLISH_FAILED`, `ERR_CELERY_BROKER_UNREACHABLE`, ...). */
  on(event: 'error', listener: (error: CeleryError) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once(event: 'error', listener: (error: CeleryError) => void): this;
  once(event: string | symbol, listener: (...args: any[]) => void): this;
  addListener(event: 'error', listener: (error: CeleryError) => void): this;
  addListener(event: string | symbol, listener: (...args: any[]) => void): this;
  prependListener(event: 'error', listener: (error: CeleryError) => void): this;
  prependListener(event: string | symbol, listener: (...args: any[]) => void): this;
  prependOnceListener(event: 'error', listener: (error: CeleryError) => void): this;
  prependOnceListener(event: string | symbol, listener: (...args: any[]) => void): this;
}
