// getOrder and cancelOrder while Temporal cannot be reached: the gateway answers TEMPORAL_UNAVAILABLE
// for unknown and for finished orders alike, never NOT_FOUND or CANNOT_CANCEL (which would be
// claims about the order it cannot make). Temporal is real; the outage is a TCP proxy in front of
// it that the test shuts.
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../../common/config';
import { OrderLookup, UNKNOWN_ID_TTL_MS } from '../../gateway/order-lookup';
import { OrderProducer } from '../../gateway/order-producer';
import { Gateway, startGateway } from '../../gateway/server';
import { useStack } from '../helpers/in-process-pipeline';
import { uniqueId } from '../helpers/wait';
import { sleep } from '../../tools/infra/proc';
import { temporalProxy } from '../helpers/temporal-proxy';
import { Frame, TestClient } from '../helpers/ws-client';
import { appDataConverter } from '../helpers/codec';

const stack = useStack({ stepDelayMs: 0 });

describe('gateway order look-ups while Temporal is down', () => {
  test('getOrder and cancelOrder answer TEMPORAL_UNAVAILABLE for an unknown and for a finished order', async () => {
    // A finished order, placed through the pipeline.
    const placing = await TestClient.connect(stack().url);
    const finished = uniqueId('done');
    await placing.placeOrder({ orderId: finished, item: 'Pen', price: 2 });
    await placing.waitFor(
      (f) => f.event === 'orderStatus' && f.data.orderId === finished && f.data.status === 'COMPLETED',
      60_000,
    );
    await placing.close();

    const proxy = await temporalProxy();
    // No client-side gRPC retries: a retry still pending when the test closes the connection would
    // outlive it (the gateway's own time limits, not the retries, are what is under test).
    const connection = await Connection.connect({ address: `127.0.0.1:${proxy.port}`, interceptors: [] });
    let gateway: Gateway | undefined;
    let c: TestClient | undefined;
    try {
      gateway = await startGateway({
        port: 0,
        producer: new OrderProducer(stack().kafka, 5_000, stack().topic),
        orders: new OrderLookup(
          new Client({ connection, namespace: loadConfig().temporalNamespace, dataConverter: appDataConverter() }),
          5_000,
        ),
        log: () => undefined,
      });
      c = await TestClient.connect(`ws://127.0.0.1:${gateway.port}`);
      const client = c;
      const ask = async (event: 'getOrder' | 'cancelOrder', orderId: string): Promise<Frame> => {
        const start = client.received.length;
        client.send({ event, data: { orderId } });
        return client.waitFor((f) => client.received.indexOf(f) >= start && f.data.orderId === orderId, 90_000);
      };
      const unknown = uniqueId('never');

      // Through the proxy, while Temporal answers: the gateway knows both orders for what they are.
      expect(await ask('getOrder', finished)).toMatchObject({ event: 'order', data: { status: 'COMPLETED' } });
      expect((await ask('getOrder', unknown)).data.code).toBe('NOT_FOUND');
      expect((await ask('cancelOrder', finished)).data.code).toBe('CANNOT_CANCEL');
      // The gateway answers an id Temporal just said it does not know from memory for a moment:
      // let that pass, so the unknown order is asked about again during the outage.
      await sleep(UNKNOWN_ID_TTL_MS);

      await proxy.cut();
      const answers = await Promise.all([
        ask('getOrder', finished),
        ask('getOrder', unknown),
        ask('cancelOrder', finished),
        ask('cancelOrder', unknown),
      ]);
      expect(answers.map((a) => [a.event, a.data.code, a.data.orderId])).toEqual([
        ['error', 'TEMPORAL_UNAVAILABLE', finished],
        ['error', 'TEMPORAL_UNAVAILABLE', unknown],
        ['error', 'TEMPORAL_UNAVAILABLE', finished],
        ['error', 'TEMPORAL_UNAVAILABLE', unknown],
      ]);
      expect(c.closed).toBeUndefined();
    } finally {
      await c?.close();
      await gateway?.close();
      await connection.close();
    }
  });
});
