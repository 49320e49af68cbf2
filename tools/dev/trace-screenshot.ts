/**
 * Checks one order's trace in Jaeger and screenshots it in Jaeger's UI into docs/trace.png (Debian's
 * Chromium through playwright-core):
 *
 *   npx tsx tools/dev/trace-screenshot.ts <jaeger URL> <trace id> [out.png]
 *
 * With `TRACING=1 npm start` running: place an order (`npm run order` prints its trace id), then
 * run this with http://127.0.0.1:16686 and that id. First the query API must hold exactly that trace
 * with spans of gateway, bridge and worker (the manual end-to-end check of docs/TRACING.md); the
 * screenshot needs a Jaeger that serves its UI (ORDERS_JAEGER_UI_ASSETS for one built from the Go module).
 */
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { PROJECT_ROOT } from '../../common/config';
import { jaegerHasUi } from '../infra/jaeger-server';

const SERVICES = ['order-bridge', 'order-gateway', 'order-worker'];

interface JaegerTraces {
  data?: { traceID: string; spans: { processID: string }[]; processes: Record<string, { serviceName: string }> }[];
}

/** The trace from Jaeger's query API: its span count per service; throws unless it is one trace of all three. */
async function checkTrace(ui: string, traceId: string): Promise<Record<string, number>> {
  const res = await fetch(`${ui}/api/traces/${traceId}`, { signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`${ui}/api/traces/${traceId} answered ${res.status}`);
  const traces = ((await res.json()) as JaegerTraces).data ?? [];
  if (traces.length !== 1) throw new Error(`expected one trace ${traceId}, Jaeger returned ${traces.length}`);
  const perService: Record<string, number> = {};
  for (const span of traces[0].spans) {
    const service = traces[0].processes[span.processID]?.serviceName ?? '?';
    perService[service] = (perService[service] ?? 0) + 1;
  }
  const missing = SERVICES.filter((s) => !perService[s]);
  if (missing.length) throw new Error(`trace ${traceId} has no span of ${missing.join(', ')}`);
  return perService;
}

async function main(): Promise<void> {
  const [ui, traceId, out = path.join(PROJECT_ROOT, 'docs', 'trace.png')] = process.argv.slice(2);
  if (!ui || !/^[0-9a-f]{32}$/.test(traceId ?? '')) {
    console.error('usage: trace-screenshot.ts <jaeger UI URL> <32-hex trace id> [out.png]');
    process.exit(2);
  }
  const base = ui.replace(/\/+$/, '');
  const perService = await checkTrace(base, traceId);
  console.log(
    `trace ${traceId}: ${Object.entries(perService)
      .map(([s, n]) => `${n} spans of ${s}`)
      .join(', ')}`,
  );
  if (!(await jaegerHasUi(base)))
    throw new Error(
      `${base} serves no Jaeger UI (a build without UI assets: see ORDERS_JAEGER_UI_ASSETS in docs/TRACING.md)`,
    );
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(`${base}/trace/${traceId}`, { waitUntil: 'networkidle', timeout: 60_000 });
    // The span rows are drawn once the trace is loaded.
    await page.getByText('RunWorkflow:processOrder').first().waitFor({ timeout: 60_000 });
    await page.screenshot({ path: out, fullPage: true });
    console.log(`wrote ${path.relative(PROJECT_ROOT, out)}`);
  } finally {
    await browser.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
