// celery-node's `dist/index` (its package entry): the same exports as the package root.
export * from '../index';
