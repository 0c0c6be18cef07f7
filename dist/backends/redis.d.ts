// celery-node's `dist/backends/redis`: default export `RedisBackend`.
// Unlike celery-node's, it has no `redis` (ioredis) property: the connection is native.
import type { CeleryBackend, TransportOptions } from '../../index';

export default class RedisBackend implements CeleryBackend {
  url: string;
  opts: TransportOptions;
  private _native;
  /** Validates the URL and options; connects on first use. */
  constructor(url: string, opts?: TransportOptions);
  isReady(): Promise<void>;
  /** Resolves `"OK"`, as celery-node's (ioredis QUIT) does. */
  disconnect(): Promise<'OK'>;
  /** The stored result meta (`{status, result, traceback, children, task_id, date_done, ...}`), or `null`. */
  getTaskMeta(taskId: string): Promise<any>;
  /** Deletes the stored result (`celery-task-meta-<id>`), as Python's `forget()`; what `result.forget()` calls. */
  forget(taskId: string): Promise<void>;
  /** Stores a result meta the way celery-node's worker does. */
  storeResult(taskId: string, result: any, state: string): Promise<['OK', null]>;
}
