// celery-node's `dist/app/worker`: default export `Worker`.
export { Worker as default } from '../../index';
