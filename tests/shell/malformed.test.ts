/**
 * The headless server answers malformed input with a 4xx, never a 500 (issue #19: a malformed cookie and
 * %00 in a path gave 500), and a WebSocket message that is JSON but not an object does not crash it.
 * Includes a seeded random pass over request targets, cookies and bodies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as net from 'node:net';
import * as path from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { WorkbenchCore } from '../../main/server/core.js';
import { startServer, type RunningServer } from '../../main/server/server.js';
import { Settings } from '../../main/settings/settings.js';
import { mulberry32 } from '../../common/suites/ops.js';
import { tempDir } from './helpers.js';

let t: ReturnType<typeof tempDir>;
let core: WorkbenchCore;
let server: RunningServer;

beforeAll(async () => {
  t = tempDir('rw-bad-');
  const dist = path.join(t.dir, 'dist');
  mkdirSync(dist);
  writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>wb</title>');
  core = new WorkbenchCore({ settings: Settings.open(path.join(t.dir, 'cfg')), shell: 'test', projectsDir: t.dir });
  server = await startServer({ core, staticDir: dist });
});
afterAll(async () => {
  await server?.close();
  await core?.close();
  t?.cleanup();
});

/** Send raw bytes, return the status code of the reply (0 if the connection closed without one). */
function raw(bytes: Buffer | string): Promise<number> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: server.port });
    let got = '';
    s.on('data', (d) => {
      got += d.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(got);
      if (m) {
        resolve(Number(m[1]));
        s.destroy();
      }
    });
    s.on('error', () => resolve(0));
    s.on('close', () => resolve(/^HTTP\/1\.[01] (\d{3})/.exec(got) ? Number(/^HTTP\/1\.[01] (\d{3})/.exec(got)![1]) : 0));
    s.write(bytes);
  });
}

function req(target: string, headers: Record<string, string> = {}, method = 'GET', body = ''): Promise<number> {
  const h = { Host: `127.0.0.1:${server.port}`, Connection: 'close', ...headers, ...(body ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}) };
  return raw(`${method} ${target} HTTP/1.1\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`);
}

const auth = () => ({ Authorization: `Bearer ${server.token}` });

describe('malformed requests are 4xx (issue #19 findings)', () => {
  it('a malformed cookie is 400, not 500 (finding)', async () => {
    expect(await req('/', { Cookie: 'rw_token=%E0%A4%A' })).toBe(400);
    expect(await req('/', { Cookie: 'other=%; rw_token=abc' })).toBe(400);
  });

  it('%00 in a path is 400, not 500 (finding)', async () => {
    expect(await req('/%00', auth())).toBe(400);
    expect(await req('/assets/a%00.js', auth())).toBe(400);
  });

  it('bad percent-encoding, odd targets, long paths and bad JSON are 4xx', async () => {
    expect(await req('/%E0%A4%A', auth())).toBe(400);
    expect(await req('/' + 'a'.repeat(5000) + '.js', auth())).toBe(404);
    expect(await req('//[', auth())).toBeLessThan(500);
    expect(await req('*', auth(), 'OPTIONS')).toBe(400);
    expect(await req('/api/call/app.info', { ...auth(), 'Content-Type': 'application/json' }, 'POST', '{bad')).toBe(400);
    expect(await req('/api/call/%E0%A4%A', auth(), 'POST', '{}')).toBe(400);
    const unknown = await req('/api/call/no.such.method', auth(), 'POST', '{}');
    expect(unknown).toBe(200); // a WireResult with ok: false
  });

  it('a seeded random pass over targets, cookies and bodies never gets a 500', async () => {
    const rand = mulberry32(19);
    const alphabet = ['%', '%0', '%00', '%FF', '%E0%A4', '..', '/', '\\', '?', '#', '&token=', ';', '=', 'a', 'é', '%2e', '%2f', '\u0000'];
    const pick = () => alphabet[Math.floor(rand() * alphabet.length)]!;
    for (let i = 0; i < 60; i++) {
      let p = '/';
      for (let k = Math.floor(rand() * 8); k > 0; k--) p += pick();
      const target = encodeURI(p).replace(/%25/g, '%');
      const kind = i % 3;
      const status =
        kind === 0
          ? await req(target, auth())
          : kind === 1
            ? await req(target, { Cookie: `rw_token=${pick()}${pick()}` })
            : await req('/api/call/app.info', auth(), 'POST', pick() + pick());
      expect(status, `${kind} ${target}`).toBeGreaterThanOrEqual(200);
      expect(status, `${kind} ${target}`).toBeLessThan(500);
    }
  });

  it('WebSocket upgrade with a malformed cookie or target is 400 (it threw inside the upgrade handler)', async () => {
    const upgrade = (target: string, headers: Record<string, string>) =>
      req(target, { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers });
    expect(await upgrade('/api/ws', { Cookie: 'rw_token=%E0%A4%A' })).toBe(400);
    expect(await upgrade('/api/ws', { Cookie: `rw_token=${server.token}` })).toBe(101);
    expect(await upgrade(`/api/ws?token=${server.token}`, {})).toBe(401);
    expect(await req('/', auth())).toBe(200);
  });

  it('WebSocket: JSON that is not a message object gets an error reply and the server stays up', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws`, { headers: auth() });
    await new Promise<void>((r, j) => {
      ws.once('open', () => r());
      ws.once('error', j);
    });
    const replies: unknown[] = [];
    ws.on('message', (d) => replies.push(JSON.parse(String(d))));
    for (const m of ['null', '3', '[]', '"x"', 'not json', '{"id":1,"method":"app.info","req":{}}']) ws.send(m);
    await new Promise((r) => setTimeout(r, 300));
    ws.close();
    const errs = replies.filter((r) => (r as { ok?: boolean }).ok === false);
    expect(errs.length).toBeGreaterThanOrEqual(5);
    expect(replies).toContainEqual(expect.objectContaining({ id: 1, ok: true }));
    expect(await req('/', auth())).toBe(200);
  });
});
