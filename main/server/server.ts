/**
 * Headless server: the same WorkbenchApi over HTTP + WebSocket, plus the built renderer, for
 * browsers, remote GPU boxes and the end-to-end tests.
 *
 * - Binds 127.0.0.1 by default; `host` exposes it deliberately (e.g. 0.0.0.0 behind an SSH tunnel or VPN).
 * - A random token is required on every request: `?token=` (the printed URL carries it; a successful
 *   page load sets an HttpOnly SameSite=Strict cookie so assets and reloads work), or
 *   `Authorization: Bearer <token>`. Compared in constant time.
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

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
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

  /** Which token the request presents, and whether it came in the query (so we set the cookie). */
  function presented(req: http.IncomingMessage, url: URL): { token: string | null; fromQuery: boolean; fromCookie: boolean } {
    const q = url.searchParams.get('token');
    if (q) return { token: q, fromQuery: true, fromCookie: false };
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return { token: auth.slice(7).trim(), fromQuery: false, fromCookie: false };
    const c = parseCookies(req.headers.cookie)[TOKEN_COOKIE];
    return { token: c ?? null, fromQuery: false, fromCookie: c !== undefined };
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
    let file = path.resolve(staticDir, '.' + path.posix.normalize('/' + rel));
    if (file !== staticDir && !file.startsWith(staticDir + path.sep)) return refuse(res, 403, 'forbidden');
    let st = fs.statSync(file, { throwIfNoEntry: false });
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
    fs.createReadStream(file).pipe(res);
  }

  async function readBody(req: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of req) {
      n += (c as Buffer).length;
      if (n > maxBody) throw Object.assign(new Error('request body too large'), { status: 413 });
      chunks.push(c as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  const server = http.createServer(async (req, res) => {
    try {
      if (!hostAllowed(req)) return refuse(res, 421, 'unexpected Host header');
      const url = new URL(req.url ?? '/', 'http://localhost');
      const p = presented(req, url);
      if (!p.token) return refuse(res, 401, 'token required: open the URL printed by the server (it carries ?token=...)');
      if (!safeEqual(p.token, token)) return refuse(res, 403, 'wrong token');
      if (p.fromQuery) {
        res.setHeader('Set-Cookie', `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`);
      }
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
        const result = await core.dispatch(method, body);
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
      const status = (e as { status?: number }).status ?? 500;
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
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/api/ws') return deny(404, 'Not Found');
    const p = presented(req, url);
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
          ws.send(JSON.stringify({ id: null, ok: false, error: { name: 'BadMessage', message: 'message must be JSON' } }));
          return;
        }
        const result = await core.dispatch(msg.method, msg.req);
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id: msg.id ?? null, ...result }));
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
