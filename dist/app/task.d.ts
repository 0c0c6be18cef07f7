// celery-node's `dist/app/task`: default export `Task`.
export { Task as default } from '../../index';
