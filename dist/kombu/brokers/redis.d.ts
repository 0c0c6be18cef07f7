// celery-node's `dist/kombu/brokers/redis`: default export `RedisBroker`.
// Unlike celery-node's, it has no `redis`/`channels`/`closing` properties and no
// `publish`/`subscribe` methods: messages are queued and written by the native layer.
import type { CeleryBroker, TransportOptions } from '../../../index';

export default class RedisBroker implements CeleryBroker {
  url: string;
  opts: TransportOptions;
  private _native;
  /** Validates the URL and options; connects on first use. */
  constructor(url: string, opts?: TransportOptions);
  /** The oid written as `reply_to` on every message. */
  readonly replyTo: string;
  isReady(): Promise<void>;
  /** Sends every queued message, then closes the connection. */
  disconnect(): Promise<void>;
}
