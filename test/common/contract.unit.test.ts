// The published contract (docs/schemas/*.json, docs/asyncapi.yaml) and the page's copy of common/
// (web/common.js) are what `npm run contract` makes from today's code: a change to a schema or a
// status set without regenerating the files fails here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../common/config';
import { contractFiles, SCHEMA_DIR } from '../../tools/dev/contract';

const generated = contractFiles();

describe('generated files (docs/schemas, docs/asyncapi.yaml, web/common.js)', () => {
  test.each([...generated.keys()])(
    '%s matches the code (run `npm run contract` after changing a schema or a status)',
    (rel) => {
      const file = path.join(PROJECT_ROOT, rel);
      expect(fs.existsSync(file)).toBe(true);
      expect(fs.readFileSync(file, 'utf8')).toBe(generated.get(rel));
    },
  );

  test('docs/schemas holds no schema the code no longer has', () => {
    const committed = fs.readdirSync(SCHEMA_DIR).map((f) => path.join('docs', 'schemas', f));
    expect(committed.filter((f) => !generated.has(f))).toEqual([]);
  });

  test('the AsyncAPI document is version 3, names the two transports and three topics, and every $ref resolves', () => {
    const doc = parse(generated.get(path.join('docs', 'asyncapi.yaml'))!) as Record<string, unknown>;
    expect(doc.asyncapi).toMatch(/^3\./);
    const channels = doc.channels as Record<string, { address: string }>;
    expect(
      Object.values(channels)
        .map((c) => c.address)
        .sort(),
    ).toEqual(['/', 'order-placement', 'order-placement.dlq', 'order-status']);
    expect(Object.keys(doc.servers as object).sort()).toEqual(['kafka', 'socketio', 'websocket']);
    const refs: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key === '$ref' && typeof value === 'string') refs.push(value);
          else walk(value);
        }
      }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) {
      expect(ref.startsWith('#/')).toBe(true);
      const target = ref
        .slice(2)
        .split('/')
        .reduce<unknown>(
          (node, part) => (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')],
          doc,
        );
      expect({ ref, found: target !== undefined }).toEqual({ ref, found: true });
    }
  });
});
