// celery-node's `dist/kombu/brokers/amqp`: default export `AMQPBroker`.
// Unlike celery-node's, it has no `connect`/`channel` (amqplib) promises and no
// `publish`/`subscribe` methods: messages are queued, written and confirmed by the native layer.
// It declares Celery's topology (per queue: durable queue, direct exchange, binding), not
// celery-node's `default` exchange.
import type { CeleryBroker, TransportOptions } from '../../../index';

export default class AMQPBroker implements CeleryBroker {
  url: string;
  opts: TransportOptions;
  private _native;
  /**
   * Validates the URL(s) (`amqp://`, `amqps://`, `pyamqp://`, or several separated by `;`) and
   * options; connects on first use. A third argument (celery-node's queue) is accepted and
   * ignored: the queue is chosen per message.
   */
  constructor(url: string, opts?: TransportOptions, queue?: string);
  /** The oid written as `reply_to` on every message: the `rpc://` backend's reply queue. */
  readonly replyTo: string;
  /** Opens a connection of its own and closes it once RabbitMQ answers. */
  isReady(): Promise<void>;
  /**
   * Waits until every queued message is confirmed or failed (a message not confirmed within 30 s
   * fails with `ERR_CELERY_PUBLISH_FAILED`); later sends fail with
   * `ERR_CELERY_DISCONNECTED`. Then the connection is closed.
   */
  disconnect(): Promise<void>;
}
