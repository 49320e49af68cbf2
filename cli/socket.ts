/**
 * Opens one WebSocket to the gateway (with the token as `Authorization: Bearer`, when there is one)
 * and resolves once it is open; rejects with a readable message when the gateway cannot be reached.
 */
import WebSocket from 'ws';

export interface SocketHandlers {
  onMessage: (text: string) => void;
  /** The open socket closed (not called when it never opened: the promise rejects instead). */
  onClose: (code: number, reason: string) => void;
}

export function openSocket(url: string, token: string | undefined, handlers: SocketHandlers): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => reject(new Error(`cannot connect to ${url}: ${why}`));
    let ws: WebSocket;
    try {
      const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
      ws = new WebSocket(url, { handshakeTimeout: 10_000, headers });
    } catch (err) {
      fail((err as Error).message);
      return;
    }
    let opened = false;
    ws.on('open', () => {
      opened = true;
      resolve(ws);
    });
    ws.on('message', (raw) => handlers.onMessage(raw.toString()));
    ws.on('error', (err) => {
      if (!opened) fail(err.message || (err as NodeJS.ErrnoException).code || 'connection failed');
    });
    ws.on('close', (code, reason) => {
      if (opened) handlers.onClose(code, reason.toString());
      else fail(`closed (${code})`);
    });
  });
}
