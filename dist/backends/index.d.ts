// celery-node's `dist/backends/index`: the `CeleryBackend` type and its factory.
import type { CeleryBackend, TransportOptions } from '../../index';

export { CeleryBackend } from '../../index';

/**
 * The result backend for a URL: a `RedisBackend` (`dist/backends/redis`) for `redis://`,
 * `rediss://`, `redis+socket://` and `socket://`; an `AMQPBackend` (`dist/backends/amqp`,
 * celery-node's per-task-queue backend) for `amqp://`, `amqps://`, `pyamqp://` (and `;` lists).
 * Throws `"Unsupported type: <scheme>"` (`ERR_CELERY_UNSUPPORTED_SCHEME`) otherwise, `rpc://`
 * included: the RPC backend is built from a broker (`dist/backends/rpc`).
 */
export declare function newCeleryBackend(CELERY_BACKEND: string, CELERY_BACKEND_OPTIONS?: TransportOptions): CeleryBackend;
