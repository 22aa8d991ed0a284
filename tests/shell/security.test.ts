/**
 * Security: the token on every request, loopback-only by default, Host/Origin checks, static files
 * confined to the renderer folder, and Electronegativity finding nothing of high severity in main/electron.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { WorkbenchCore } from '../../main/server/core.js';
import { startServer, type RunningServer } from '../../main/server/server.js';
import { Settings } from '../../main/settings/settings.js';
import { fixture, tempDir } from './helpers.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

function request(port: number, p: string, opts: { headers?: Record<string, string>; method?: string; body?: string } = {}) {
  return new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

function wsOpens(url: string, headers: Record<string, string> = {}): Promise<number | 'open'> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => resolve(0));
  });
}

let t: ReturnType<typeof tempDir>;
let core: WorkbenchCore;
let server: RunningServer;

beforeAll(async () => {
  t = tempDir('rw-sec-');
  const dist = path.join(t.dir, 'dist');
  mkdirSync(dist);
  writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>wb</title>');
  writeFileSync(path.join(t.dir, 'secret.txt'), 'secret');
  core = new WorkbenchCore({ settings: Settings.open(path.join(t.dir, 'cfg')), shell: 'test', projectsDir: t.dir });
  server = await startServer({ core, staticDir: dist });
});
afterAll(async () => {
  await server?.close();
  await core?.close();
  t?.cleanup();
});

describe('headless server', () => {
  it('binds loopback only by default', async () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.urlWithToken).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(server.token.length).toBeGreaterThanOrEqual(32);
    const external = Object.values(os.networkInterfaces())
      .flat()
      .filter((i) => i && i.family === 'IPv4' && !i.internal)
      .map((i) => i!.address);
    for (const addr of external) {
      const refused = await new Promise<boolean>((resolve) => {
        const s = net.connect({ host: addr, port: server.port });
        s.once('connect', () => {
          s.destroy();
          resolve(false);
        });
        s.once('error', () => resolve(true));
      });
      expect(refused, `reachable on ${addr}`).toBe(true);
    }
  });

  it('refuses requests without a token or with a wrong one', async () => {
    expect((await request(server.port, '/')).status).toBe(401);
    expect((await request(server.port, '/index.html')).status).toBe(401);
    expect((await request(server.port, '/?token=wrong')).status).toBe(403);
    expect((await request(server.port, '/', { headers: { Authorization: 'Bearer wrong' } })).status).toBe(403);
    expect((await request(server.port, '/', { headers: { Cookie: 'rw_token=wrong' } })).status).toBe(403);
    const api = await request(server.port, '/api/call/app.info', { method: 'POST', body: '{}' });
    expect(api.status).toBe(401);
    expect(api.body).not.toContain('Refusal Workbench');
    const wrongApi = await request(server.port, '/api/call/projects.open', { method: 'POST', body: '{"dir":"/"}', headers: { Authorization: `Bearer ${server.token}x` } });
    expect(wrongApi.status).toBe(403);
  });

  it('accepts the token (query → HttpOnly cookie, bearer) and sends a CSP', async () => {
    // The printed URL's query token is exchanged for the cookie, and the browser sent to a URL without it.
    const opened = await request(server.port, `/runs?x=1&token=${server.token}`);
    expect(opened.status).toBe(303);
    expect(opened.headers.location).toBe('/runs?x=1');
    const cookie = String(opened.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const page = await request(server.port, '/', { headers: { Cookie: `rw_token=${server.token}` } });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(page.headers['content-security-policy']).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    const api = await request(server.port, '/api/call/app.info', { method: 'POST', body: '{}', headers: { Authorization: `Bearer ${server.token}` } });
    expect(JSON.parse(api.body)).toMatchObject({ ok: true, result: { name: 'Refusal Workbench' } });
  });

  it('HTTP API calls: no cookie auth, no cross-origin callers (CSRF from another local port)', async () => {
    const viaCookie = await request(server.port, '/api/call/app.info', { method: 'POST', body: '{}', headers: { Cookie: `rw_token=${server.token}`, 'Content-Type': 'text/plain' } });
    expect(viaCookie.status).toBe(401);
    const foreign = await request(server.port, '/api/call/app.info', {
      method: 'POST',
      body: '{}',
      headers: { Authorization: `Bearer ${server.token}`, Origin: 'http://127.0.0.1:1' },
    });
    expect(foreign.status).toBe(403);
  });

  it('WebSocket: refused without / with a wrong token or from a foreign origin', async () => {
    const base = `ws://127.0.0.1:${server.port}/api/ws`;
    expect(await wsOpens(base)).toBe(401);
    const bearer = { Authorization: `Bearer ${server.token}` };
    expect(await wsOpens(base, { Authorization: 'Bearer nope' })).toBe(403);
    expect(await wsOpens(base, { ...bearer, Origin: 'https://evil.example' })).toBe(403);
    expect(await wsOpens(base, { ...bearer, Origin: `http://127.0.0.1:${server.port}` })).toBe('open');
    expect(await wsOpens(base, { Cookie: `rw_token=${server.token}`, Origin: `http://127.0.0.1:${server.port}` })).toBe('open');
    // The API never takes the token from the query string (it would land in logs and history).
    expect(await wsOpens(`${base}?token=${server.token}`)).toBe(401);
    expect((await request(server.port, `/api/call/app.info?token=${server.token}`, { method: 'POST', body: '{}' })).status).toBe(401);
  });

  it('refuses foreign Host headers (DNS rebinding)', async () => {
    const r = await request(server.port, `/?token=${server.token}`, { headers: { Host: `evil.example:${server.port}` } });
    expect(r.status).toBe(421);
    expect(await wsOpens(`ws://127.0.0.1:${server.port}/api/ws`, { Host: 'evil.example', Authorization: `Bearer ${server.token}` })).toBe(421);
  });

  it('serves only files inside the renderer folder', async () => {
    const auth = { Authorization: `Bearer ${server.token}` };
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt']) {
      const r = await request(server.port, p, { headers: auth });
      expect(r.body, p).not.toContain('secret');
    }
  });

  it('refuses API paths outside the open project', async () => {
    const auth = { Authorization: `Bearer ${server.token}` };
    const call = async (method: string, body: unknown) =>
      JSON.parse((await request(server.port, `/api/call/${method}`, { method: 'POST', body: JSON.stringify(body), headers: auth })).body);
    expect((await call('projects.create', { dir: path.join(t.dir, 'proj'), name: 'p' })).ok).toBe(true);
    const r = await call('files.readText', { path: '../secret.txt' });
    expect(r).toMatchObject({ ok: false, error: { code: 'PATH_OUTSIDE_PROJECT' } });
    expect(JSON.stringify(r)).not.toContain('"secret"');
  });

  it('--host exposes deliberately', async () => {
    const s2 = await startServer({ core, host: '0.0.0.0', staticDir: t.dir });
    try {
      expect(s2.host).toBe('0.0.0.0');
      // not loopback: no Host pinning, the token still applies
      expect((await request(s2.port, '/', { headers: { Host: `box.example:${s2.port}` } })).status).toBe(401);
    } finally {
      await s2.close();
    }
  });
});

describe('Electronegativity', () => {
  function scan(input: string, out: string): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        [path.join(REPO, 'node_modules/@doyensec/electronegativity/dist/index.js'), '-i', input, '-o', out, '-r', '-e', '41.7.1'],
        { cwd: REPO, timeout: 600_000 },
        (err) => {
          try {
            resolve(readFileSync(out, 'utf8'));
          } catch {
            reject(err ?? new Error('no report written'));
          }
        },
      );
    });
  }
  const severities = (csv: string) =>
    csv
      .split('\n')
      .map((l) => /^([A-Z_]+),"(HIGH|MEDIUM|LOW|INFORMATIONAL)"/.exec(l))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => ({ check: m[1]!, severity: m[2]! }));

  it('reports no high-severity finding on main/electron (and does flag an insecure app)', async () => {
    const [ours, insecure] = await Promise.all([
      scan(path.join(REPO, 'main/electron'), path.join(t.dir, 'ours.csv')),
      scan(fixture('insecure-electron'), path.join(t.dir, 'insecure.csv')),
    ]);
    const high = severities(ours).filter((f) => f.severity === 'HIGH');
    expect(high, ours).toEqual([]);
    expect(severities(insecure).filter((f) => f.severity === 'HIGH').map((f) => f.check)).toEqual(
      expect.arrayContaining(['CONTEXT_ISOLATION_JS_CHECK', 'LIMIT_NAVIGATION_GLOBAL_CHECK']),
    );
  });
});
