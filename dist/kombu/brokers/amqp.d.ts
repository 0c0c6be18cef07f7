// celery-node's `dist/kombu/brokers/amqp`: default export `AMQPBroker`.
// Unlike celery-node's, it has no `connect`/`channel` promises and no `publish`/`subscribe`
// methods: messages are queued, written and confirmed by the native layer.
import type { CeleryBroker, TransportOptions } from '../../../index';

export default class AMQPBroker implements CeleryBroker {
  url: string;
  opts: TransportOptions;
  private _native;
  /** Validates the URL(s) and options; connects on first use. */
  constructor(url: string, opts?: TransportOptions);
  /** The oid written as `reply_to` on every message: the `rpc://` backend's reply queue. */
  readonly replyTo: string;
  isReady(): Promise<void>;
  /** Waits until every queued message is confirmed (or failed), then closes the connection. */
  disconnect(): Promise<void>;
}
