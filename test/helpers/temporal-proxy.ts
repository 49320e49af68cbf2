/**
 * A TCP proxy in front of the real Temporal frontend, for tests of the gateway while Temporal is
 * slow or down: `hold()` keeps every connection open but forwards nothing more (requests hang, as
 * against an overloaded server), `cut()` closes the listener and destroys every connection
 * (connections are refused, as against a stopped server).
 */
import * as net from 'node:net';
import { infraPorts } from '../../tools/infra/ports';

export interface TemporalProxy {
  port: number;
  hold(): void;
  cut(): Promise<void>;
}

export async function temporalProxy(): Promise<TemporalProxy> {
  const sockets = new Set<net.Socket>();
  let holding = false;
  const server = net.createServer((downstream) => {
    const upstream = net.connect(infraPorts().temporal, '127.0.0.1');
    for (const s of [downstream, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    const forward = (from: net.Socket, to: net.Socket): void => {
      from.on('data', (chunk) => {
        if (!holding) to.write(chunk);
      });
      from.on('end', () => to.end());
    };
    forward(downstream, upstream);
    forward(upstream, downstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    hold: () => {
      holding = true;
    },
    cut: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
