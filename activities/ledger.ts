/**
 * The simulated payment provider's durable ledger: an append-only JSON-lines file.
 * Every charge and refund is written (synchronously) before the provider answers, so the ledger is
 * the ground truth the tests count: one charge per completed order, one refund per compensation.
 * Several processes may share the file; each catches up on what others appended before it reads.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface LedgerEntry {
  kind: 'charge' | 'refund';
  idempotencyKey: string;
  id: string;
  orderId: string;
  amount: number;
  at: string;
}

/**
 * Every line of a ledger file, in the order written, repeats included. The Ledger below indexes by
 * idempotency key (one entry per key), so a provider that charged twice under one key would still
 * show one entry there: counting effects ("charged once") must read the raw lines.
 */
export function readLedgerLines(file: string): LedgerEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as LedgerEntry);
}

export class Ledger {
  private readonly byKey = new Map<string, LedgerEntry>();
  private readOffset = 0;
  private partial = '';

  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
  }

  /** Reads entries appended since the last call (by this or another process). */
  private catchUp(): void {
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= this.readOffset) return;
      const buf = Buffer.alloc(size - this.readOffset);
      fs.readSync(fd, buf, 0, buf.length, this.readOffset);
      this.readOffset = size;
      const lines = (this.partial + buf.toString('utf8')).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        const entry = JSON.parse(line) as LedgerEntry;
        this.byKey.set(entry.idempotencyKey, entry);
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  find(idempotencyKey: string): LedgerEntry | undefined {
    this.catchUp();
    return this.byKey.get(idempotencyKey);
  }

  /** Appends one entry with a single O_APPEND write and fsync, then indexes it. */
  append(entry: LedgerEntry): void {
    const fd = fs.openSync(this.file, 'a');
    try {
      fs.writeSync(fd, JSON.stringify(entry) + '\n');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    this.catchUp();
  }

  /** One entry per idempotency key (the provider's view). To count effects, use lines(). */
  entries(): LedgerEntry[] {
    this.catchUp();
    return [...this.byKey.values()];
  }

  /** Every line written to the file so far, repeats included. */
  lines(): LedgerEntry[] {
    return readLedgerLines(this.file);
  }
}
