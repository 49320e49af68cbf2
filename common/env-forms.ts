/**
 * The forms a variable's raw string may take (./env-variables gives each variable one): the zod
 * schema that parses it and the words the docs and the error messages use for it.
 */
import { z } from 'zod';

/** A form a variable's raw string may take: the zod schema that parses it, and how the docs name it. */
export interface Form<T> {
  schema: z.ZodType<T, string>;
  form: string;
}

export const wholeNumber = (min: number, max: number, unit?: string): Form<number> => ({
  schema: z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(min).max(max)),
  form: `a whole number${unit ? ` of ${unit}` : ''} (${min}-${max})`,
});
export const decimal = (min: number, max: number, form: string): Form<number> => ({
  schema: z
    .string()
    .regex(/^\d+(\.\d+)?$/)
    .transform(Number)
    .pipe(z.number().min(min).max(max)),
  form,
});
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T, form?: string): Form<T[number]> => ({
  schema: z.enum(values),
  form: form ?? `one of ${values.join(', ')}`,
});
export const text = (form: string): Form<string> => ({ schema: z.string().min(1), form });
export const url = (protocols: string[]): z.ZodType<string, string> =>
  z.string().refine((s) => {
    try {
      return protocols.includes(new URL(s).protocol);
    } catch {
      return false;
    }
  });
const listItems = (s: string): string[] => s.split(',').flatMap((p) => (p.trim() ? [p.trim()] : []));
export const commaList = <T>(item: z.ZodType<T, string>, form: string): Form<T[]> => ({
  schema: z.string().transform(listItems).pipe(z.array(item).min(1)),
  form,
});

export const hostPortSchema = z.string().regex(/^[A-Za-z0-9._-]+:\d{1,5}$|^\[[0-9A-Fa-f:]+\]:\d{1,5}$/);
export const PORT: Form<number> = { ...wholeNumber(1, 65_535), form: 'a port number (1-65535)' };
export const STATUS_PARTITION: Form<number> = { ...wholeNumber(0, 100_000), form: 'an order-status partition number' };
export const HOST_PORT: Form<string> = { schema: hostPortSchema, form: 'host:port' };
export const BOOLEAN = oneOf(['true', 'false'], 'true or false');
export const HTTP_URL: Form<string> = { schema: url(['http:', 'https:']), form: 'an http(s) URL' };
export const PEM_FILE = text('a file path (PEM)');
export const BIND_ADDRESS = text('a bind address');
export const RATIO = decimal(0, 1, 'a number between 0 and 1');
/** A SCRAM password kafka-configs takes inside `SCRAM-SHA-512=[password=...]`, where `,` `]` `=` and quotes would end it. */
export const SCRAM_PASSWORD: Form<string> = {
  schema: z.string().regex(/^[A-Za-z0-9._~-]{16,}$/),
  form: 'a password of at least 16 letters, digits or . _ ~ -',
};
/**
 * Worker Deployment Versioning names (docs/DEPLOYING.md): a deployment name has no '.' (Temporal
 * writes a version as `<deployment>.<build id>`), and neither may start with '__' (Temporal's own
 * names, such as `__unversioned__`).
 */
export const DEPLOYMENT_NAME: Form<string> = {
  schema: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/),
  form: 'a deployment name (letters, digits, - and _; at most 100)',
};
export const BUILD_ID: Form<string> = {
  schema: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/),
  form: 'a build id (letters, digits, ., - and _; at most 100)',
};
/** A key-encryption key: 32 bytes as 64 hex digits. */
export const KEK_HEX: Form<string> = {
  schema: z.string().regex(/^[0-9a-fA-F]{64}$/),
  form: '64 hex digits (32 bytes)',
};
export const JWT_SECRET: Form<string> = { schema: z.string().min(32), form: 'a secret of at least 32 characters' };
