/**
 * Headless server: the same WorkbenchApi over HTTP + WebSocket, plus the built renderer, for
 * browsers, remote GPU boxes and the end-to-end tests.
 *
 * - Binds 127.0.0.1 by default; `host` exposes it deliberately (e.g. 0.0.0.0 behind an SSH tunnel or VPN).
 * - A random token is required on every request, from `Authorization: Bearer <token>` or the HttpOnly
 *   SameSite=Strict cookie. The printed URL carries `?token=`: that only opens the page — it is exchanged
 *   for the cookie and the browser is redirected to the same URL without it, so the token does not stay in
 *   the address bar, history or logs. The API (HTTP and WebSocket) never reads a query token. Compared in
 *   constant time.
 * - Malformed input (cookies, percent-encoding, NUL bytes, bad JSON, odd request targets) is a 4xx.
 * - On loopback, the Host header must name the loopback address (DNS-rebinding defence); WebSocket
 *   upgrades must come from our own origin.
 * - API: WebSocket at /api/ws (`{id, method, req}` → `{id, ok, result|error}`, events `{event}`), and
 *   POST /api/call/<method> with a JSON body → WireResult, for scripts.
 */
import * as http from 'node:http';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ApiEvent } from '../../common/api.js';
import type { WorkbenchCore } from './core.js';

export const DEFAULT_STATIC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../renderer/dist');
export const TOKEN_COOKIE = 'rw_token';

export { RENDERER_CSP } from './csp.js';
import { RENDERER_CSP } from './csp.js';

export interface ServerOptions {
  core: WorkbenchCore;
  /** Interface to bind; default 127.0.0.1 (loopback only). */
  host?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Access token; default 24 random bytes, base64url. */
  token?: string;
  /** Built renderer (vite build output). */
  staticDir?: string;
  /** Largest accepted request body in bytes (default 64 MiB). */
  maxBodyBytes?: number;
}

export interface RunningServer {
  url: string;
  /** URL including the token, to print / open. */
  urlWithToken: string;
  host: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A request the client got wrong: answered with `status`, never a 500. */
class BadRequest extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    let v: string;
    try {
      v = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      throw new BadRequest(400, 'malformed cookie');
    }
    out[part.slice(0, i).trim()] = v;
  }
  return out;
}

/** The request target as a URL; only origin-form paths ("/…") are served. */
function requestUrl(raw: string | undefined): URL {
  const target = raw ?? '/';
  if (!target.startsWith('/')) throw new BadRequest(400, 'bad request target');
  try {
    // Prefixing keeps "//x/y" a path rather than a host.
    return new URL(`http://localhost${target}`);
  } catch {
    throw new BadRequest(400, 'bad request target');
  }
}

function securityHeaders(res: http.ServerResponse): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const staticDir = path.resolve(opts.staticDir ?? DEFAULT_STATIC_DIR);
  const maxBody = opts.maxBodyBytes ?? 64 * 1024 * 1024;
  const loopbackOnly = isLoopbackHost(host);
  const core = opts.core;
  let port = 0;

  /** Which token the request presents: the header or the cookie (a query token only opens pages, below). */
  function presented(req: http.IncomingMessage): { token: string | null; fromCookie: boolean } {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return { token: auth.slice(7).trim(), fromCookie: false };
    const c = parseCookies(req.headers.cookie)[TOKEN_COOKIE];
    return { token: c ?? null, fromCookie: c !== undefined };
  }

  /** A browser request from another origin (another port on 127.0.0.1 is same-site, so SameSite alone is not enough). */
  function foreignOrigin(req: http.IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (!origin) return false;
    try {
      return new URL(origin).host !== req.headers.host;
    } catch {
      return true;
    }
  }

  function hostAllowed(req: http.IncomingMessage): boolean {
    if (!loopbackOnly) return true;
    const h = req.headers.host;
    if (!h) return false;
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(h);
    return !!m && isLoopbackHost(m[1]!) && (m[2] === undefined || Number(m[2]) === port);
  }

  function refuse(res: http.ServerResponse, status: number, message: string): void {
    securityHeaders(res);
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(message + '\n');
  }

  function serveStatic(req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      return refuse(res, 400, 'bad path');
    }
    if (rel.includes('\0')) return refuse(res, 400, 'bad path');
    let file = path.resolve(staticDir, '.' + path.posix.normalize('/' + rel));
    if (file !== staticDir && !file.startsWith(staticDir + path.sep)) return refuse(res, 403, 'forbidden');
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(file, { throwIfNoEntry: false });
    } catch {
      st = undefined; // ENAMETOOLONG, ENOTDIR, EACCES …: not something we serve
    }
    if (!st || st.isDirectory()) {
      // SPA fallback for routes; real missing assets (with an extension) are 404.
      if (path.extname(rel) && rel !== '/') return refuse(res, 404, 'not found');
      file = path.join(staticDir, 'index.html');
      st = fs.statSync(file, { throwIfNoEntry: false });
      if (!st) {
        securityHeaders(res);
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': RENDERER_CSP });
        res.end(
          '<!doctype html><meta charset="utf-8"><title>Refusal Workbench</title>' +
            '<p>The renderer is not built yet. Run <code>npm run build:renderer</code> and reload.</p>',
        );
        return;
      }
    }
    securityHeaders(res);
    const isHtml = file.endsWith('.html');
    res.writeHead(200, {
      'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream',
      'Content-Length': st.size,
      'Cache-Control': isHtml ? 'no-store' : 'no-cache',
      ...(isHtml ? { 'Content-Security-Policy': RENDERER_CSP } : {}),
    });
    if (req.method === 'HEAD') return void res.end();
    fs.createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  }

  async function readBody(req: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let n = 0;
    try {
      for await (const c of req) {
        n += (c as Buffer).length;
        if (n > maxBody) throw new BadRequest(413, 'request body too large');
        chunks.push(c as Buffer);
      }
    } catch (e) {
      if (e instanceof BadRequest) throw e;
      throw new BadRequest(400, 'request body could not be read');
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  const server = http.createServer(async (req, res) => {
    try {
      if (!hostAllowed(req)) return refuse(res, 421, 'unexpected Host header');
      const url = requestUrl(req.url);
      const isApi = url.pathname.startsWith('/api/');
      // The printed URL's ?token= opens a page: exchanged for the cookie, then a redirect drops it.
      const q = url.searchParams.get('token');
      if (q !== null && !isApi && (req.method === 'GET' || req.method === 'HEAD')) {
        if (!safeEqual(q, token)) return refuse(res, 403, 'wrong token');
        url.searchParams.delete('token');
        securityHeaders(res);
        res.writeHead(303, {
          'Set-Cookie': `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
          Location: url.pathname + url.search + url.hash,
          'Cache-Control': 'no-store',
        });
        return void res.end();
      }
      const p = presented(req);
      if (!p.token) {
        return refuse(res, 401, isApi ? 'API calls need Authorization: Bearer <token> (a query token is not accepted)' : 'token required: open the URL printed by the server (it carries ?token=...)');
      }
      if (!safeEqual(p.token, token)) return refuse(res, 403, 'wrong token');
      if (url.pathname.startsWith('/api/call/')) {
        if (req.method !== 'POST') return refuse(res, 405, 'use POST');
        // The cookie is for page loads and the same-origin WebSocket; HTTP calls must carry the token
        // themselves (Authorization: Bearer), which a cross-origin page cannot forge (CSRF).
        if (p.fromCookie) return refuse(res, 401, 'API calls need Authorization: Bearer <token>');
        if (foreignOrigin(req)) return refuse(res, 403, 'cross-origin API call refused');
        const method = url.pathname.slice('/api/call/'.length);
        let body: unknown = {};
        const text = await readBody(req);
        if (text.trim()) {
          try {
            body = JSON.parse(text);
          } catch {
            return refuse(res, 400, 'body must be JSON');
          }
        }
        let decoded: string;
        try {
          decoded = decodeURIComponent(method);
        } catch {
          return refuse(res, 400, 'bad method name');
        }
        const result = await core.dispatch(decoded, body);
        securityHeaders(res);
        // a request the contract refuses (a bad field, named in the message) is the client's error
        const status = !result.ok && result.error.code === 'INVALID_REQUEST' ? 400 : 200;
        res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
        res.end(JSON.stringify(result));
        return;
      }
      if (url.pathname.startsWith('/api/')) return refuse(res, 404, 'no such API route');
      if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'method not allowed');
      serveStatic(req, res, url);
    } catch (e) {
      const status = e instanceof BadRequest ? e.status : 500;
      if (!res.headersSent) refuse(res, status, status === 500 ? 'internal error' : (e as Error).message);
      else res.destroy();
    }
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: maxBody });
  const sockets = new Set<WebSocket>();

  server.on('upgrade', (req, socket, head) => {
    const deny = (code: number, msg: string) => {
      socket.write(`HTTP/1.1 ${code} ${msg}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    if (!hostAllowed(req)) return deny(421, 'Misdirected Request');
    let url: URL;
    let p: { token: string | null };
    try {
      url = requestUrl(req.url);
      p = presented(req);
    } catch {
      return deny(400, 'Bad Request');
    }
    if (url.pathname !== '/api/ws') return deny(404, 'Not Found');
    if (!p.token) return deny(401, 'Unauthorized');
    if (!safeEqual(p.token, token)) return deny(403, 'Forbidden');
    if (foreignOrigin(req)) return deny(403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      const onEvent = (event: ApiEvent) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event }));
      };
      core.on('event', onEvent);
      ws.on('close', () => {
        sockets.delete(ws);
        core.off('event', onEvent);
      });
      ws.on('message', async (data) => {
        let msg: { id?: unknown; method?: unknown; req?: unknown };
        try {
          msg = JSON.parse(String(data));
        } catch {
          msg = null as never;
        }
        // `null`, `3` or `[]` parse as JSON but are not messages (and `null.method` would reject unhandled).
        if (!msg || typeof msg !== 'object' || Array.isArray(msg)) {
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id: null, ok: false, error: { name: 'BadMessage', message: 'message must be a JSON object {id, method, req}' } }));
          return;
        }
        const id = typeof msg.id === 'number' || typeof msg.id === 'string' ? msg.id : null;
        try {
          const result = await core.dispatch(msg.method, msg.req);
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id, ...result }));
        } catch {
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id, ok: false, error: { name: 'InternalError', message: 'internal error' } }));
        }
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const base = `http://${urlHost}:${port}/`;
  return {
    url: base,
    urlWithToken: `${base}?token=${encodeURIComponent(token)}`,
    host,
    port,
    token,
    close: async () => {
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
