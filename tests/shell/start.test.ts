/** `npm start` without the Electron binary: the headless server starts, prints a tokened URL, opens the demo. */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

describe('npm start (bin/start.mjs)', () => {
  it('falls back to the headless server and prints the URL with its token; first run opens the demo project', async () => {
    const t = tempDir('rw-start-');
    const child = spawn(process.execPath, [path.join(REPO, 'bin/start.mjs'), '--port', '0', '--static', t.dir], {
      cwd: REPO,
      env: {
        ...process.env,
        HOME: t.dir,
        REFUSAL_WORKBENCH_CONFIG_DIR: path.join(t.dir, 'config'),
        REFUSAL_WORKBENCH_SKIP_BUILD: '1',
        ELECTRON_OVERRIDE_DIST_PATH: path.join(t.dir, 'no-electron'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL printed:\n${out}`)), 240_000);
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (d: string) => {
          out += d;
          const m = /Open: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        child.stderr.on('data', (d) => (out += d));
        child.on('exit', (code) => reject(new Error(`exited ${code}:\n${out}`)));
      });
      expect(out).toMatch(/project: demo \(/);
      const base = url.slice(0, url.indexOf('?'));
      expect((await fetch(base)).status).toBe(401);
      // The query token is exchanged for the HttpOnly cookie and redirected away; the cookie opens the page.
      const opened = await fetch(url, { redirect: 'manual' });
      expect(opened.status).toBe(303);
      expect(opened.headers.get('location')).toBe('/');
      const cookie = (opened.headers.get('set-cookie') ?? '').split(';')[0]!;
      expect((await fetch(base, { headers: { cookie } })).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      t.cleanup();
    }
  });
});
