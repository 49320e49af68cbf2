/**
 * Screenshots one trace in Jaeger's UI into docs/trace.png (Debian's Chromium through playwright-core):
 *
 *   npx tsx tools/dev/trace-screenshot.ts <jaeger UI URL> <trace id> [out.png]
 *
 * With `TRACING=1 npm start` running: place an order (`npm run order` prints its trace id), then
 * run this with http://127.0.0.1:16686 and that id.
 */
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { PROJECT_ROOT } from '../../common/config';

async function main(): Promise<void> {
  const [ui, traceId, out = path.join(PROJECT_ROOT, 'docs', 'trace.png')] = process.argv.slice(2);
  if (!ui || !/^[0-9a-f]{32}$/.test(traceId ?? '')) {
    console.error('usage: trace-screenshot.ts <jaeger UI URL> <32-hex trace id> [out.png]');
    process.exit(2);
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(`${ui.replace(/\/+$/, '')}/trace/${traceId}`, { waitUntil: 'networkidle', timeout: 60_000 });
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
