/** The checks of the CLI's flag values (commander argument parsers): each returns the value or throws why not. */
import { InvalidArgumentError } from 'commander';
import { CustomerIdSchema, OrderIdSchema } from '../common/protocol';

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError('must be a number greater than 0.');
  return n;
}

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError('must be a whole number of at least 1.');
  return n;
}

export function wsUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('must be a ws:// or wss:// URL, e.g. ws://127.0.0.1:3000.');
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:')
    throw new InvalidArgumentError('must start with ws:// or wss://.');
  return value;
}

export function customerIdArg(value: string): string {
  if (!CustomerIdSchema.safeParse(value).success)
    throw new InvalidArgumentError('must be 1-128 visible ASCII characters');
  return value;
}

export function orderIdArg(value: string): string {
  if (!OrderIdSchema.safeParse(value).success)
    throw new InvalidArgumentError('must be 1-64 of letters, digits and # _ . : -');
  return value;
}
