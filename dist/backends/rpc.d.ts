// The `rpc://` result backend (celery-node has none): results arrive on the client's reply queue.
import type { CeleryBackend, TransportOptions } from '../../index';
import type AMQPBroker from '../kombu/brokers/amqp';

export default class RpcBackend implements CeleryBackend {
  url: string;
  opts: TransportOptions;
  private _native;
  /** Uses the broker's connection settings and consumes its reply queue (`broker.replyTo`). */
  constructor(broker: AMQPBroker);
  isReady(): Promise<void>;
  disconnect(): Promise<'OK'>;
  /** The latest state received for the task, or `null` when none arrived yet. */
  getTaskMeta(taskId: string): Promise<any>;
}
