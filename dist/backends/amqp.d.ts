// celery-node's `dist/backends/amqp`: default export `AMQPBackend`, celery-node's own result
// backend (one queue per task, named by the id without dashes). Celery 5 has no such backend.
import type { CeleryBackend, TransportOptions } from '../../index';

export default class AMQPBackend implements CeleryBackend {
  url: string;
  opts: TransportOptions;
  private _native;
  /** `opts.CELERY_RESULT_EXPIRES` (ms) sets the result queues' `x-expires` (default one day). */
  constructor(url: string, opts?: TransportOptions & { CELERY_RESULT_EXPIRES?: number });
  isReady(): Promise<void>;
  disconnect(): Promise<'OK'>;
  /** The result meta, or `null` when the task's queue is empty. */
  getTaskMeta(taskId: string): Promise<any>;
  /** Stores a result as celery-node's worker does; resolves `true`. */
  storeResult(taskId: string, result: any, state: string): Promise<true>;
}
