/**
 * The gateway's plain HTTP routes on the client port: the browser page (static files from web/) and
 * /config.json (where the Temporal UI is, for the page's links, and the auth mode). Anything else is
 * 404: probes and metrics (/livez, /readyz, /metrics, /healthz) are on the admin listener
 * (common/admin-listener.ts, GATEWAY_HEALTH_PORT), never here, where any client or rebound page reaches them.
 * Everything is served only under an allowed Host (./upgrade-guard `hostAllowed`), with SECURITY_HEADERS.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { hostAllowed } from './upgrade-guard';

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

/**
 * Sent with the page, its files, /config.json and refusals: scripts, styles and connections only
 * from the gateway's own origin (so an injected script could neither load code nor send a token
 * elsewhere), no framing (clickjacking), no MIME sniffing, no Referer leaving the page.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

/** Serves the page's files (no sub-folders, no dot files); false when the URL names none of them. */
function serveStatic(url: string, res: http.ServerResponse): boolean {
  const pathname = url.split('?')[0];
  const name = pathname === '/' ? 'index.html' : pathname.slice(1);
  if (!/^[\w.-]+$/.test(name) || name.startsWith('.') || name.startsWith('tsconfig')) return false;
  let body: Buffer;
  try {
    body = fs.readFileSync(path.join(PAGE_DIR, name));
  } catch {
    return false;
  }
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream',
    'cache-control': 'no-cache',
  });
  res.end(body);
  return true;
}

export interface HttpRouteOptions {
  temporalUi: { url: string; namespace: string };
  /** The link to one trace in the trace viewer (`{traceId}` where the id goes), when there is a viewer. */
  traceUrlTemplate?: string;
  /** The auth mode, so the page knows whether to ask for a token. */
  authMode: string;
  /** Host names (or `*`) the page is served under besides loopback ones. */
  allowedHosts?: string[];
}

/** HTTP time limits: a request's headers, and the whole request (slow clients are cut). */
export interface HttpTimeouts {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

/** The gateway's HTTP server, answering the routes above; the WebSocket endpoints attach to it. */
export function createHttpServer(opts: HttpRouteOptions & HttpTimeouts): http.Server {
  return http.createServer(
    {
      headersTimeout: opts.headersTimeoutMs,
      requestTimeout: Math.max(opts.requestTimeoutMs, opts.headersTimeoutMs),
      // How often the two timeouts above are checked (Node's default, 30 s, would let them run over by that much).
      connectionsCheckingInterval: Math.min(1_000, opts.headersTimeoutMs),
    },
    httpHandler(opts),
  );
}

export function httpHandler(opts: HttpRouteOptions): http.RequestListener {
  return (req, res) => {
    if (!hostAllowed(req.headers.host, opts.allowedHosts)) {
      res.writeHead(403, { ...SECURITY_HEADERS, 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'host not allowed (GATEWAY_ALLOWED_HOSTS)' }));
      return;
    }
    if (req.method === 'GET' && req.url === '/config.json') {
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          temporalUiUrl: opts.temporalUi.url,
          namespace: opts.temporalUi.namespace,
          auth: opts.authMode,
          ...(opts.traceUrlTemplate ? { traceUrlTemplate: opts.traceUrlTemplate } : {}),
        }),
      );
      return;
    }
    if (req.method === 'GET' && req.url && serveStatic(req.url, res)) return;
    res.writeHead(404, { ...SECURITY_HEADERS, 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'not found' }));
  };
}
