/**
 * The bridge's dead-letter queue: an event it can never start a workflow from (malformed, or a
 * start Temporal refuses for good) is written to order-placement.dlq with its reason and origin,
 * and only then is its offset committed. bridge/dlq-replay.ts reads these headers back.
 */
import type { KafkaMessage, Message, Producer } from 'kafkajs';

/** Where a dead-lettered event came from. */
export interface DlqOrigin {
  topic: string;
  partition: number;
}

/** The DLQ record for `message`: same key and value, its headers plus reason, origin and time. */
export function dlqRecord(message: KafkaMessage, reason: string, origin: DlqOrigin, at = new Date()): Message {
  return {
    key: message.key,
    value: message.value,
    headers: {
      ...message.headers,
      'dlq-reason': reason,
      'dlq-original-topic': origin.topic,
      'dlq-original-partition': String(origin.partition),
      'dlq-original-offset': message.offset,
      'dlq-at': at.toISOString(),
    },
  };
}

export class DeadLetters {
  constructor(
    private readonly dlq: Producer,
    private readonly dlqTopic: string,
    private readonly sourceTopic: string,
  ) {}

  /** Writes the record and resolves once every in-sync replica has it (acks -1). */
  async send(partition: number, message: KafkaMessage, reason: string): Promise<void> {
    await this.dlq.send({
      topic: this.dlqTopic,
      acks: -1,
      messages: [dlqRecord(message, reason, { topic: this.sourceTopic, partition })],
    });
  }
}
