// celery-node's `dist/backends/amqp`: default export `AMQPBackend`, celery-node's own result
// backend (one queue per task, named by the id without dashes). Celery 5 has no such backend.
// Unlike celery-node's, it has no `connect`/`channel` (amqplib) properties: the connection is
// native, and it declares no `default` exchange.
import type { CeleryBackend, TransportOptions } from '../../index';

export default class AMQPBackend implements CeleryBackend {
  url: string;
  opts: TransportOptions;
  private _native;
  /**
   * Validates the URL(s) and options; connects on first use. `opts.CELERY_RESULT_EXPIRES` (ms)
   * sets the result queues' `x-expires` (default one day), as in celery-node.
   */
  constructor(url: string, opts?: TransportOptions & { CELERY_RESULT_EXPIRES?: number });
  isReady(): Promise<void>;
  /** Resolves `"OK"`. */
  disconnect(): Promise<'OK'>;
  /**
   * The result meta, or `null` when the task's queue is empty. Reading takes the message off the
   * queue; a result once read is kept in memory, so later reads through this backend see it.
   */
  getTaskMeta(taskId: string): Promise<any>;
  /** Drops the result this backend took off the task's queue (what `result.forget()` calls). */
  forget(taskId: string): Promise<void>;
  /** Stores a result as celery-node's worker does (a JSON message on the task's queue); resolves `true`. */
  storeResult(taskId: string, result: any, state: string): Promise<true>;
}
