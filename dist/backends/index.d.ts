// celery-node's `dist/backends/index`: the `CeleryBackend` type and its factory.
import type { CeleryBackend, TransportOptions } from '../../index';

export { CeleryBackend } from '../../index';

/**
 * The result backend for a URL (Redis URLs only in this version). Throws
 * `"Unsupported type: <scheme>"` (`ERR_CELERY_UNSUPPORTED_SCHEME`) otherwise.
 */
export declare function newCeleryBackend(CELERY_BACKEND: string, CELERY_BACKEND_OPTIONS?: TransportOptions): CeleryBackend;
