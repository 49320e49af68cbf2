/**
 * One Socket.IO connection attempt against a gateway, for the auth tests: whether it connected, or
 * the `connect_error` it got (its message and the data the gateway attached).
 */
import { io, type ManagerOptions, type SocketOptions } from 'socket.io-client';

/** What the gateway attaches to a refused CONNECT. */
export interface ConnectErrorData {
  code?: string;
  retryable?: boolean;
  reason?: string;
  correlationId?: string;
}

export type SocketIoOutcome = { connected: true } | { connected: false; message: string; data?: ConnectErrorData };

/** Connects to the gateway on `port` with these client options, reports the outcome and disconnects. */
export async function socketIoOutcome(
  port: number,
  opts: Partial<ManagerOptions & SocketOptions> = {},
): Promise<SocketIoOutcome> {
  const socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, ...opts });
  try {
    return await new Promise<SocketIoOutcome>((resolve) => {
      socket.once('connect', () => resolve({ connected: true }));
      socket.once('connect_error', (err) =>
        resolve({ connected: false, message: err.message, data: (err as { data?: ConnectErrorData }).data }),
      );
    });
  } finally {
    socket.disconnect();
  }
}
