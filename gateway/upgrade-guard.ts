/**
 * Decides, before a WebSocket exists, whether an HTTP upgrade may become one: the shared token (when
 * set), the Origin allow-list (when set), and room for another connection. A refused upgrade is
 * answered with a plain HTTP status and closed.
 */
import * as crypto from 'node:crypto';
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';

export interface UpgradeGuardOptions {
  authToken?: string;
  allowedOrigins?: string[];
  /** True when no further connection may be opened (shutting down, or at the connection limit). */
  full: () => boolean;
}

/** Constant-time comparison of the presented token (header or query) with the expected one. */
function tokenMatches(req: http.IncomingMessage, expected: string): boolean {
  const header = req.headers.authorization;
  const fromHeader = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
  const fromQuery = new URL(req.url ?? '/', 'http://gateway').searchParams.get('token') ?? undefined;
  const presented = Buffer.from(fromHeader ?? fromQuery ?? '');
  const wanted = Buffer.from(expected);
  return presented.length === wanted.length && crypto.timingSafeEqual(presented, wanted);
}

/** The HTTP status to refuse this upgrade with, or undefined when it may proceed. */
function refusal(req: http.IncomingMessage, opts: UpgradeGuardOptions): string | undefined {
  if (opts.authToken && !tokenMatches(req, opts.authToken)) return '401 Unauthorized';
  if (opts.allowedOrigins?.length && !opts.allowedOrigins.includes(req.headers.origin ?? '')) return '403 Forbidden';
  if (opts.full()) return '503 Service Unavailable';
  return undefined;
}

/** Checks an upgrade request; true when it may proceed, else the socket has been answered and closed. */
export function admitUpgrade(req: http.IncomingMessage, socket: Duplex, opts: UpgradeGuardOptions): boolean {
  socket.on('error', () => socket.destroy());
  const status = refusal(req, opts);
  if (status === undefined) return true;
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  return false;
}
