// The `rpc://` result backend (celery-node has none): Celery's RPC backend. Workers send every
// state of a task to the client's reply queue on the AMQP broker; one consumer per client reads
// them and dispatches them by correlation id (the task id).
import type { CeleryBackend, TransportOptions } from '../../index';
import type AMQPBroker from '../kombu/brokers/amqp';

/** Has no `storeResult`: results are sent by the workers, so it implements the rest of `CeleryBackend`. */
export default class RpcBackend implements Omit<CeleryBackend, 'storeResult'> {
  /** The broker's URL: the backend connects to the same RabbitMQ. */
  url: string;
  /** The broker's options (`CELERY_BROKER_OPTIONS`). */
  opts: TransportOptions;
  private _native;
  /**
   * Uses the broker's URL and options and consumes its reply queue (`broker.replyTo`). Throws a
   * `CeleryError` with code `ERR_CELERY_INVALID_OPTION` if `broker` is not an AMQP broker.
   * Connects on first use (`isReady`, `getTaskMeta`, or a wait in `AsyncResult#get`).
   */
  constructor(broker: AMQPBroker);
  /** Declares the reply queue (durable, auto-delete, `x-expires` one day) and starts consuming it. */
  isReady(): Promise<void>;
  /** Stops consuming; the reply queue is left to RabbitMQ (auto-delete, expires). Resolves `"OK"`. */
  disconnect(): Promise<'OK'>;
  /**
   * The latest state received for the task (intermediate states such as PROGRESS included), or
   * `null` when none arrived yet. The latest states of up to 10,000 tasks are kept.
   */
  getTaskMeta(taskId: string): Promise<any>;
  /** Drops the state kept for the task (what `result.forget()` calls); later lookups find nothing. */
  forget(taskId: string): Promise<void>;
}
