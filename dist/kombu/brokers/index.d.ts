// celery-node's `dist/kombu/brokers/index`: the `CeleryBroker` type and its factory.
import type { CeleryBroker, TransportOptions } from '../../../index';

export { CeleryBroker } from '../../../index';

/**
 * The broker for a URL (Redis URLs only in this version). Throws `"Unsupported type: <scheme>"`
 * (`ERR_CELERY_UNSUPPORTED_SCHEME`) otherwise. The queue argument is accepted for celery-node
 * compatibility; the queue is chosen per message.
 */
export declare function newCeleryBroker(CELERY_BROKER: string, CELERY_BROKER_OPTIONS?: TransportOptions, CELERY_QUEUE?: string): CeleryBroker;
