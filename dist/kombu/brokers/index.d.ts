// celery-node's `dist/kombu/brokers/index`: the `CeleryBroker` type and its factory.
import type { CeleryBroker, TransportOptions } from '../../../index';

export { CeleryBroker } from '../../../index';

/**
 * The broker for a URL: a `RedisBroker` (`dist/kombu/brokers/redis`) for `redis://`, `rediss://`
 * and `redis+socket://`; an `AMQPBroker` (`dist/kombu/brokers/amqp`) for `amqp://`, `amqps://`,
 * `pyamqp://` (and `;`-separated failover lists). Throws `"Unsupported type: <scheme>"`
 * (`ERR_CELERY_UNSUPPORTED_SCHEME`) otherwise. The queue argument is accepted for celery-node
 * compatibility; the queue is chosen per message.
 */
export declare function newCeleryBroker(CELERY_BROKER: string, CELERY_BROKER_OPTIONS?: TransportOptions, CELERY_QUEUE?: string): CeleryBroker;
