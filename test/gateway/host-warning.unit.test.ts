// A Host allow-list holding `*` serves every Host, which lets a DNS-rebound page in again: the gateway
// says so in its start-up log. No servers: the gateway listens on a loopback port and nothing is placed.
import { startGateway, type Gateway } from '../../gateway/server';

const gateways: Gateway[] = [];

afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

/** The start-up log of a gateway with this Host allow-list. */
async function startupLog(allowedHosts: string[] | undefined): Promise<string[]> {
  const lines: string[] = [];
  const gateway = await startGateway({
    port: 0,
    producer: { publish: () => Promise.reject(new Error('nothing is placed in this test')) },
    allowedHosts,
    log: (line) => lines.push(line),
  });
  gateways.push(gateway);
  return lines;
}

const WILDCARD_WARNING = /WARNING: GATEWAY_ALLOWED_HOSTS contains \*.*DNS rebinding/;

describe('gateway start-up warnings', () => {
  test('GATEWAY_ALLOWED_HOSTS with * logs a DNS-rebinding warning', async () => {
    expect((await startupLog(['*'])).filter((l) => WILDCARD_WARNING.test(l))).toHaveLength(1);
    expect((await startupLog(['orders.example', '*'])).filter((l) => WILDCARD_WARNING.test(l))).toHaveLength(1);
  });

  test('a list of names, or none, logs no such warning', async () => {
    expect((await startupLog(['orders.example'])).some((l) => WILDCARD_WARNING.test(l))).toBe(false);
    expect((await startupLog(undefined)).some((l) => WILDCARD_WARNING.test(l))).toBe(false);
  });
});
