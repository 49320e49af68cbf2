// A draining gateway on real Kafka: once close() has begun, a new placement is refused with
// SHUTTING_DOWN and written nowhere, while the placement already in flight is stored and accepted.
// No race: the in-flight write is held at a gate until the refusal has been seen.
import type { Order } from '../../common/order';
import { useGatewayFixture } from '../helpers/gateway';
import { gate, within } from '../helpers/wait';
import { TestClient } from '../helpers/ws-client';

const fixture = useGatewayFixture('order-placement-drain');

describe('gateway draining', () => {
  test('while draining, a new placement gets SHUTTING_DOWN and is not written; the one in flight is stored and accepted', async () => {
    const held = gate();
    const publishing: string[] = [];
    // The real producer, behind a gate: the first write stays in flight until the test opens it.
    const gated = {
      publish: async (order: Order) => {
        publishing.push(order.orderId);
        await held.wait();
        return fixture.producer().publish(order);
      },
    };
    const gw = await fixture.start({ producer: gated });
    const client = await TestClient.connect(`ws://127.0.0.1:${gw.port}`);
    const closeCode = new Promise<number>((resolve) => client.ws.once('close', (code) => resolve(code)));

    let closing: Promise<void> | undefined;
    try {
      client.send({ event: 'placeOrder', data: { orderId: 'drain-in-flight', item: 'Mouse', price: 10 } });
      await within(held.reached, 10_000, 'the first write to reach the gate');
      expect(publishing).toEqual(['drain-in-flight']);

      closing = gw.close();
      client.send({ event: 'placeOrder', data: { orderId: 'drain-late', item: 'Mouse', price: 10 } });
      const late = await client.waitFor((f) => f.data.orderId === 'drain-late');
      expect(late.event).toBe('error');
      expect(late.data.code).toBe('SHUTTING_DOWN');

      held.open();
      const inFlight = await client.waitFor((f) => f.data.orderId === 'drain-in-flight');
      expect(inFlight.event).toBe('orderAccepted');
      await closing;
      expect(await closeCode).toBe(1001);
      expect(publishing).toEqual(['drain-in-flight']);
      expect(await fixture.stored()).toBe(1);
    } finally {
      // Whatever failed above: open the gate and finish the drain, so nothing is left running.
      held.open();
      await (closing ?? gw.close());
    }
  });
});
