// The payment ledger file: appended and fsync'd line by line, read back by any process sharing it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Ledger, LedgerEntry } from '../../activities/ledger';

function tempFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-unit-')), 'nested', 'payments.jsonl');
}

const entry = (key: string, overrides: Partial<LedgerEntry> = {}): LedgerEntry => ({
  kind: 'charge',
  idempotencyKey: key,
  id: `ch_${key}`,
  orderId: `o-${key}`,
  amount: 10,
  at: '2026-11-25T00:00:00.000Z',
  ...overrides,
});

const rawLines = (file: string): string[] => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);

describe('Ledger edge cases', () => {
  test('a ledger whose file does not exist yet is empty (and its directory is created)', () => {
    const file = tempFile();
    const ledger = new Ledger(file);
    expect(fs.existsSync(path.dirname(file))).toBe(true);
    expect(ledger.entries()).toEqual([]);
    expect(ledger.find('k1')).toBeUndefined();
    expect(ledger.file).toBe(file);
  });

  test('each append writes one JSON line and is found by its idempotency key', () => {
    const file = tempFile();
    const ledger = new Ledger(file);
    ledger.append(entry('k1'));
    ledger.append(entry('k2', { kind: 'refund', id: 're_k2' }));
    expect(rawLines(file).map((l) => JSON.parse(l))).toEqual([
      entry('k1'),
      entry('k2', { kind: 'refund', id: 're_k2' }),
    ]);
    expect(fs.readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
    expect(ledger.find('k1')).toEqual(entry('k1'));
    expect(ledger.find('k2')?.kind).toBe('refund');
    expect(ledger.find('k3')).toBeUndefined();
    expect(ledger.entries()).toEqual([entry('k1'), entry('k2', { kind: 'refund', id: 're_k2' })]);
  });

  test('a second ledger on the same file sees what the first appended, and the first sees its appends', () => {
    const file = tempFile();
    const a = new Ledger(file);
    const b = new Ledger(file);
    expect(b.entries()).toEqual([]);
    a.append(entry('k1'));
    expect(b.find('k1')).toEqual(entry('k1'));
    b.append(entry('k2'));
    expect(a.entries().map((e) => e.idempotencyKey)).toEqual(['k1', 'k2']);
    // Reading again without new data changes nothing.
    expect(a.entries().map((e) => e.idempotencyKey)).toEqual(['k1', 'k2']);
  });

  test('appends read one at a time, each after the last, parse cleanly', () => {
    const ledger = new Ledger(tempFile());
    for (const key of ['k1', 'k2', 'k3', 'k4']) {
      ledger.append(entry(key));
      expect(
        ledger
          .entries()
          .map((e) => e.idempotencyKey)
          .at(-1),
      ).toBe(key);
    }
    expect(ledger.entries()).toHaveLength(4);
  });

  test('entries are indexed by idempotency key: a repeated key keeps the last line (the raw file keeps both)', () => {
    const file = tempFile();
    const ledger = new Ledger(file);
    ledger.append(entry('k1', { id: 'ch_first' }));
    ledger.append(entry('k1', { id: 'ch_second' }));
    expect(ledger.entries()).toEqual([entry('k1', { id: 'ch_second' })]);
    expect(rawLines(file)).toHaveLength(2);
  });

  test('a line still being written is read only once it is complete; blank lines are skipped', () => {
    const file = tempFile();
    const ledger = new Ledger(file);
    const line = JSON.stringify(entry('k1'));
    fs.writeFileSync(file, `\n${line.slice(0, 20)}`);
    expect(ledger.entries()).toEqual([]);
    fs.appendFileSync(file, `${line.slice(20)}\n   \n`);
    expect(ledger.entries()).toEqual([entry('k1')]);
  });

  test('errors other than a missing file are not hidden', () => {
    const file = tempFile();
    const ledger = new Ledger(file);
    // The ledger's directory becomes a plain file: opening the ledger now fails with ENOTDIR.
    fs.rmSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(path.dirname(file), 'not a directory');
    expect(() => ledger.entries()).toThrow(/ENOTDIR/);
  });
});
