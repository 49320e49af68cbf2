/**
 * Checks one order's trace in Zipkin and screenshots it in Zipkin's UI into docs/trace.png (Debian's
 * Chromium through playwright-core):
 *
 *   npx tsx tools/dev/trace-screenshot.ts <zipkin URL> <trace id> [out.png]
 *
 * With `TRACING=1 npm start` running: place an order (`npm run order` prints its trace link), then
 * run this with http://127.0.0.1:9411 and that id. First Zipkin's query API must hold that trace with
 * spans of gateway, bridge and worker, all linked to one root (the end-to-end check of
 * docs/TRACING.md); then the UI's page of the trace is drawn and saved.
 */
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { PROJECT_ROOT } from '../../common/config';
import { SERVICE_NAMES } from '../../common/tracing';

const SERVICES = Object.values(SERVICE_NAMES).sort();

/** A span as Zipkin's v2 API returns it (the fields read here). */
interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name?: string;
  localEndpoint?: { serviceName?: string };
}

/**
 * The trace from Zipkin's query API, as its span count per service; throws unless it holds spans of
 * all three services and every span but one (the root) has its parent in the trace.
 */
export async function checkTrace(base: string, traceId: string): Promise<Record<string, number>> {
  const url = `${base}/api/v2/trace/${traceId}`;
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  const spans = (await res.json()) as ZipkinSpan[];
  const perService: Record<string, number> = {};
  for (const span of spans) {
    const service = span.localEndpoint?.serviceName ?? '?';
    perService[service] = (perService[service] ?? 0) + 1;
  }
  const missing = SERVICES.filter((s) => !perService[s]);
  if (missing.length) throw new Error(`trace ${traceId} has no span of ${missing.join(', ')}`);
  const ids = new Set(spans.map((s) => s.id));
  const roots = spans.filter((s) => !s.parentId || !ids.has(s.parentId));
  if (roots.length !== 1)
    throw new Error(`trace ${traceId} is in ${roots.length} pieces: ${roots.map((s) => s.name).join(', ')}`);
  return perService;
}

async function main(): Promise<void> {
  const [zipkin, traceId, out = path.join(PROJECT_ROOT, 'docs', 'trace.png')] = process.argv.slice(2);
  if (!zipkin || !/^[0-9a-f]{32}$/.test(traceId ?? '')) {
    console.error('usage: trace-screenshot.ts <zipkin URL, e.g. http://127.0.0.1:9411> <32-hex trace id> [out.png]');
    process.exit(2);
  }
  const base = zipkin.replace(/\/+$/, '');
  const perService = await checkTrace(base, traceId);
  console.log(
    `trace ${traceId}: ${Object.entries(perService)
      .map(([s, n]) => `${n} spans of ${s}`)
      .join(', ')}`,
  );
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1100 } });
    await page.goto(`${base}/zipkin/traces/${traceId}`, { waitUntil: 'networkidle', timeout: 60_000 });
    // The span rows are drawn once the trace is loaded (Zipkin keeps span names in lower case).
    await page.getByText('runworkflow:processorder').first().waitFor({ timeout: 60_000 });
    await page.screenshot({ path: out, fullPage: true });
    console.log(`wrote ${path.relative(PROJECT_ROOT, out)}`);
  } finally {
    await browser.close();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
