'use strict';

/** celery-node's configuration keys and defaults; each client gets its own copy. */
function defaultConf() {
  return {
    CELERY_BROKER: 'amqp://',
    CELERY_BROKER_OPTIONS: {},
    CELERY_BACKEND: 'amqp://',
    CELERY_BACKEND_OPTIONS: {},
    CELERY_QUEUE: 'celery',
    TASK_PROTOCOL: 2,
  };
}

module.exports = { defaultConf };
