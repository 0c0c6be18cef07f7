// celery-node's `dist/app/result`: named export `AsyncResult`.
export { AsyncResult } from '../../index';
