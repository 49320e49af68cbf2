/**
 * The raw WebSocket endpoint on the gateway's HTTP server: every upgrade that is not Socket.IO's is
 * admitted (./upgrade-guard) before a WebSocket exists, then handed to ./connections.
 */
import type * as http from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { APP_SUBPROTOCOL, BEARER_SUBPROTOCOL_PREFIX, type Identity } from './auth';
import { clientAddress } from './rate-limit';
import { SOCKET_IO_PATH } from './socket-io';
import { admitUpgrade, type AdmissionOptions } from './upgrade-guard';

export interface WsEndpointOptions {
  admission: AdmissionOptions;
  maxPayloadBytes: number;
  /** An admitted WebSocket, with who it is. */
  accept: (ws: WebSocket, identity: Identity) => void;
}

/** Listens for upgrades on `server`; close the returned server on shutdown. */
export function attachWsEndpoint(server: http.Server, opts: WsEndpointOptions): WebSocketServer {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opts.maxPayloadBytes,
    // A browser that sends its token as a `bearer.<token>` subprotocol also offers ours; the answer
    // names ours (never the token, which must not be echoed).
    handleProtocols: (offered) =>
      offered.has(APP_SUBPROTOCOL)
        ? APP_SUBPROTOCOL
        : ([...offered].find((p) => !p.startsWith(BEARER_SUBPROTOCOL_PREFIX)) ?? false),
  });
  // A malformed upgrade (wrong method, version or key): answered 400 and logged like other refusals.
  wss.on('wsClientError', (err, socket, req) => {
    opts.admission.onRefusal?.('websocket', 400, err.message, clientAddress(req.socket.remoteAddress));
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  server.on('upgrade', (req, socket, head) => {
    if (req.url?.startsWith(SOCKET_IO_PATH)) return; // Socket.IO's own upgrade listener takes these
    void admitUpgrade(req, socket, opts.admission).then((admitted) => {
      if (!admitted) return;
      // The slot is handed over in the same step that puts the WebSocket in the open count.
      wss.handleUpgrade(req, socket, head, (ws) => {
        admitted.slot();
        opts.accept(ws, admitted.identity);
      });
    });
  });
  return wss;
}
