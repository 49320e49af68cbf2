// The simulated payment provider's ledger: append-only lines, an index by idempotency key, shared by processes.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Ledger, LedgerEntry, readLedgerLines } from '../../activities/ledger';
import { simulatedProviders } from '../../activities/simulated';

const tempFile = (): string =>
  path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-unit-')), 'sub', 'payments.jsonl');
const entry = (key: string, kind: LedgerEntry['kind'] = 'charge', id = `id-${key}`): LedgerEntry => ({
  kind,
  idempotencyKey: key,
  id,
  orderId: `o-${key}`,
  amount: 10,
  at: '2026-01-01T00:00:00.000Z',
});

describe('readLedgerLines', () => {
  test('a missing file reads as no lines; a path that cannot be read as a file is an error', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-lines-'));
    expect(readLedgerLines(path.join(dir, 'absent.jsonl'))).toEqual([]);
    expect(() => readLedgerLines(dir)).toThrow(/EISDIR/);
  });

  test('every line in the order written, repeats included; blank lines are skipped', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-lines-')), 'payments.jsonl');
    const text = [entry('k1'), entry('k1'), entry('k2', 'refund')].map((e) => JSON.stringify(e)).join('\n\n');
    fs.writeFileSync(file, `${text}\n  \n`);
    expect(readLedgerLines(file)).toEqual([entry('k1'), entry('k1'), entry('k2', 'refund')]);
  });
});

describe('Ledger', () => {
  test('creates its directory; an absent file reads as empty', () => {
    const file = tempFile();
    const ledger = new Ledger(file);
    expect(fs.existsSync(path.dirname(file))).toBe(true);
    expect(ledger.entries()).toEqual([]);
    expect(ledger.lines()).toEqual([]);
    expect(ledger.find('k')).toBeUndefined();
  });

  test('append writes one JSON line per entry and find returns it by idempotency key', () => {
    const ledger = new Ledger(tempFile());
    ledger.append(entry('a'));
    ledger.append(entry('b', 'refund'));
    expect(
      fs
        .readFileSync(ledger.file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([entry('a'), entry('b', 'refund')]);
    expect(ledger.find('b')).toEqual(entry('b', 'refund'));
  });

  test('entries() keeps one entry per key, lines() keeps every line: a repeat shows only in lines()', () => {
    const ledger = new Ledger(tempFile());
    ledger.append(entry('a', 'charge', 'ch_1'));
    ledger.append(entry('a', 'charge', 'ch_2'));
    expect(ledger.entries()).toHaveLength(1);
    expect(ledger.lines().map((e) => e.id)).toEqual(['ch_1', 'ch_2']);
    expect(readLedgerLines(ledger.file)).toEqual(ledger.lines());
  });

  test('a second instance on the same file (another process) sees what the first appended, and vice versa', () => {
    const file = tempFile();
    const a = new Ledger(file);
    const b = new Ledger(file);
    a.append(entry('x'));
    expect(b.find('x')).toEqual(entry('x'));
    b.append(entry('y'));
    expect(a.find('y')).toEqual(entry('y'));
    expect(
      a
        .entries()
        .map((e) => e.idempotencyKey)
        .sort(),
    ).toEqual(['x', 'y']);
  });

  test('a line still being written (no newline yet) is not read until it is complete', () => {
    const file = tempFile();
    const ledger = new Ledger(file);
    const text = JSON.stringify(entry('p'));
    fs.writeFileSync(file, text.slice(0, 10));
    expect(ledger.find('p')).toBeUndefined();
    fs.appendFileSync(file, text.slice(10) + '\n');
    expect(ledger.find('p')).toEqual(entry('p'));
  });
});

describe('SimulatedPayment (idempotency over the ledger)', () => {
  const settings = () => ({ cardLimit: 100, transientFailureRate: 0, latencyMs: 0, ledgerFile: tempFile() });
  const paymentOn = (s: ReturnType<typeof settings>) => simulatedProviders(s).payment;

  test('the same idempotency key charges once: one ledger line, the same charge id', async () => {
    const payment = paymentOn(settings());
    const first = await payment.charge({ idempotencyKey: 'wf:charge', orderId: 'o1', amount: 40 });
    const again = await payment.charge({ idempotencyKey: 'wf:charge', orderId: 'o1', amount: 40 });
    expect(again).toEqual(first);
    expect(payment.ledger.lines()).toHaveLength(1);
  });

  test('a second provider instance on the same ledger (a restarted worker) does not charge again', async () => {
    const s = settings();
    const first = await paymentOn(s).charge({ idempotencyKey: 'wf:charge', orderId: 'o1', amount: 40 });
    const after = await paymentOn(s).charge({ idempotencyKey: 'wf:charge', orderId: 'o1', amount: 40 });
    expect(after).toEqual(first);
    expect(readLedgerLines(s.ledgerFile)).toHaveLength(1);
  });

  test('the same refund key refunds once', async () => {
    const payment = paymentOn(settings());
    const a = await payment.refund({ idempotencyKey: 'wf:refund', orderId: 'o1', chargeId: 'ch_1', amount: 40 });
    const b = await payment.refund({ idempotencyKey: 'wf:refund', orderId: 'o1', chargeId: 'ch_1', amount: 40 });
    expect(b).toEqual(a);
    expect(payment.ledger.lines().map((e) => e.kind)).toEqual(['refund']);
  });

  test('above the card limit: declined, nothing written', async () => {
    const payment = paymentOn(settings());
    const result = await payment.charge({ idempotencyKey: 'wf:charge', orderId: 'o1', amount: 100.01 });
    expect(result).toEqual({ status: 'declined', reason: expect.stringMatching(/exceeds the limit of 100\.00/) });
    expect(payment.ledger.lines()).toEqual([]);
  });
});
