/**
 * A batching front for kafkajs's idempotent producer. kafkajs holds a per-broker lock for every
 * produce request of an idempotent producer, so with one broker concurrent `send`s queue behind
 * each other, one request each. Here concurrent callers share requests instead: while one batch is
 * in flight, new messages gather in a queue, and the moment it is stored everything gathered goes
 * out as the next single `send` (acks from all in-sync replicas). No timer delays a lone message;
 * under load the batches grow by themselves. Each caller is resolved when the batch that carried
 * its messages is stored, and rejected when that batch failed.
 *
 * After any failed send the producer is replaced by a fresh one (a new producer id). With bounded
 * retries a failed batch may still have been written; reusing the old producer could then send
 * *different* messages under the same sequence numbers, which the broker would answer "duplicate,
 * already stored": an acknowledgement of messages that are not in Kafka. A new producer id makes
 * that impossible.
 */
import { Kafka, Message, Producer, ProducerConfig } from 'kafkajs';

export interface BatchingProducerOptions {
  /** kafkajs producer settings; `idempotent` and `maxInFlightRequests: 1` are always set. */
  producer?: Omit<ProducerConfig, 'idempotent' | 'maxInFlightRequests'>;
  /** Most messages in one produce request (the rest waits for the next one). */
  maxBatchMessages?: number;
  /** Optional wait before sending a batch when none is in flight (0: send at once). */
  lingerMs?: number;
  /**
   * A batch not stored within this time fails: its callers are rejected, the producer is replaced
   * and the next batch goes out on the fresh one (the stuck request may still finish on its own).
   */
  batchTimeoutMs?: number;
}

interface Pending {
  topic: string;
  messages: Message[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Generation {
  producer: Producer;
  ready?: Promise<void>;
}

export class BatchingProducer {
  private current: Generation;
  private queue: Pending[] = [];
  private inFlight = false;
  private lingering = false;
  private closed = false;
  private readonly maxBatch: number;
  private readonly lingerMs: number;
  /** Batches and messages sent so far (the benchmark reports the average batch size). */
  readonly stats = { batches: 0, messages: 0, failedBatches: 0 };

  constructor(
    private readonly kafka: Kafka,
    private readonly options: BatchingProducerOptions = {},
  ) {
    this.maxBatch = options.maxBatchMessages ?? 500;
    this.lingerMs = options.lingerMs ?? 0;
    this.current = this.fresh();
  }

  private fresh(): Generation {
    return { producer: this.kafka.producer({ ...this.options.producer, idempotent: true, maxInFlightRequests: 1 }) };
  }

  private ready(gen: Generation): Promise<void> {
    // A failed connect is forgotten, so the next batch connects afresh.
    gen.ready ??= gen.producer.connect().catch((err: unknown) => {
      gen.ready = undefined;
      throw err;
    });
    return gen.ready;
  }

  /** Replaces the producer after a failure of `failed` (once per generation). */
  private retire(failed: Generation): void {
    if (this.current !== failed || this.closed) return;
    this.current = this.fresh();
    failed.producer.disconnect().catch(() => undefined);
  }

  connect(): Promise<void> {
    return this.ready(this.current);
  }

  /** Stops taking messages, lets the batch in flight and the queue drain, then disconnects. */
  async disconnect(): Promise<void> {
    this.closed = true;
    while (this.inFlight || this.queue.length) await new Promise((r) => setTimeout(r, 5));
    if (this.current.ready) await this.current.producer.disconnect();
  }

  /** Resolves once Kafka stored these messages (with the rest of their batch). */
  send(topic: string, messages: Message[], signal?: AbortSignal): Promise<void> {
    if (this.closed) return Promise.reject(new Error('producer is closed'));
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = { topic, messages, resolve, reject };
      this.queue.push(pending);
      // A caller that gave up while its messages still wait in the queue takes them back out, so
      // nothing is written for an answer the client already got as a failure.
      signal?.addEventListener('abort', () => {
        const at = this.queue.indexOf(pending);
        if (at < 0) return;
        this.queue.splice(at, 1);
        reject(signal.reason);
      });
      this.kick();
    });
  }

  private kick(): void {
    if (this.inFlight || this.lingering || !this.queue.length) return;
    if (this.lingerMs > 0) {
      this.lingering = true;
      setTimeout(() => {
        this.lingering = false;
        this.flush();
      }, this.lingerMs);
      return;
    }
    this.flush();
  }

  private flush(): void {
    if (this.inFlight || !this.queue.length) return;
    const batch: Pending[] = [];
    let count = 0;
    while (this.queue.length && (batch.length === 0 || count + this.queue[0].messages.length <= this.maxBatch)) {
      const next = this.queue.shift() as Pending;
      batch.push(next);
      count += next.messages.length;
    }
    this.inFlight = true;
    const gen = this.current;
    let timer: NodeJS.Timeout | undefined;
    const limit = this.options.batchTimeoutMs;
    const timeout =
      limit === undefined
        ? new Promise<never>(() => undefined)
        : new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`Kafka did not store the batch within ${limit} ms`)), limit);
          });
    Promise.race([this.sendBatch(gen, batch), timeout])
      .then(() => {
        this.stats.batches += 1;
        this.stats.messages += count;
        for (const p of batch) p.resolve();
      })
      .catch((err: unknown) => {
        this.stats.failedBatches += 1;
        this.retire(gen);
        for (const p of batch) p.reject(err);
      })
      .finally(() => {
        clearTimeout(timer);
        this.inFlight = false;
        this.kick();
      });
  }

  private async sendBatch(gen: Generation, batch: Pending[]): Promise<void> {
    await this.ready(gen);
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), ...p.messages]);
    await gen.producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
  }
}
