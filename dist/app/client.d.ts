// celery-node's `dist/app/client`: default export `Client`.
export { Client as default } from '../../index';
