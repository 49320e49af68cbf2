/**
 * The gateway's plain HTTP routes: the browser page (static files from web/), /config.json (where the
 * Temporal UI is, for the page's links, and the auth mode) and /healthz (is Kafka reachable?). Anything else is 404.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

/** The browser page's folder. */
export const PAGE_DIR = path.join(__dirname, '..', 'web');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

/** Serves the page's files (no sub-folders, no dot files); false when the URL names none of them. */
function serveStatic(url: string, res: http.ServerResponse): boolean {
  const name = url === '/' ? 'index.html' : url.slice(1).split('?')[0];
  if (!/^[\w.-]+$/.test(name) || name.startsWith('.') || name.startsWith('tsconfig')) return false;
  let body: Buffer;
  try {
    body = fs.readFileSync(path.join(PAGE_DIR, name));
  } catch {
    return false;
  }
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream',
    'cache-control': 'no-cache',
  });
  res.end(body);
  return true;
}

export interface HttpRouteOptions {
  temporalUi: { url: string; namespace: string };
  /** A trace viewer (Jaeger UI) the page links traces to, when there is one. */
  traceUiUrl?: string;
  /** The auth mode, so the page knows whether to ask for a token. */
  authMode: string;
  kafkaHealthy: () => Promise<boolean>;
  /** Open WebSocket connections, reported by /healthz. */
  connections: () => number;
  /** Extra GET routes (/livez, /readyz, /metrics), tried first; true when answered. */
  routes?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
}

export function httpHandler(opts: HttpRouteOptions): http.RequestListener {
  const health = (res: http.ServerResponse, ok: boolean): void => {
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        status: ok ? 'ok' : 'degraded',
        kafka: ok ? 'up' : 'unreachable',
        connections: opts.connections(),
      }),
    );
  };
  return (req, res) => {
    if (opts.routes?.(req, res)) return;
    if (req.method === 'GET' && req.url === '/config.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          temporalUiUrl: opts.temporalUi.url,
          namespace: opts.temporalUi.namespace,
          auth: opts.authMode,
          ...(opts.traceUiUrl ? { traceUiUrl: opts.traceUiUrl } : {}),
        }),
      );
      return;
    }
    if (req.method === 'GET' && req.url && req.url !== '/healthz' && serveStatic(req.url, res)) return;
    if (req.method === 'GET' && req.url === '/healthz') {
      opts.kafkaHealthy().then(
        (ok) => health(res, ok),
        () => health(res, false),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'not found' }));
  };
}
