/**
 * The Electron main process, type-checked and tested without the Electron binary: 'electron' and
 * 'electron-store' are mocked; main.ts is imported for real and its window, policies, protocol and
 * IPC wiring are driven through the mocks.
 */
import { describe, expect, it, vi, beforeAll, afterAll } from 'vitest';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers.js';
import {
  APP_URL,
  appUrlToRelativePath,
  isNavigationAllowed,
  isTrustedSender,
  permissionDecision,
  windowOpenDecision,
} from '../../main/electron/policy.js';
import { secureWebPreferences, PRELOAD_PATH } from '../../main/electron/window-options.js';

type Fn = (...a: any[]) => any;
const h = vi.hoisted(() => {
  const state = {
    appHandlers: new Map<string, Fn[]>(),
    enableSandbox: 0,
    schemes: [] as unknown[],
    windows: [] as { opts: any; url: string | null; webContents: any }[],
    ipcHandlers: new Map<string, Fn>(),
    permissionRequest: null as Fn | null,
    permissionCheck: null as Fn | null,
    headers: null as Fn | null,
    protocolHandler: null as Fn | null,
    openExternal: [] as string[],
    storeOpts: null as any,
    ready: null as null | (() => void),
  };
  return state;
});

vi.mock('electron', () => {
  let nextId = 1;
  class BrowserWindow {
    webContents: any;
    constructor(public opts: any) {
      const id = nextId++;
      this.webContents = { id, send: vi.fn(), isDestroyed: () => false };
      h.windows.push({ opts, url: null, webContents: this.webContents });
    }
    once() {}
    on() {}
    show() {}
    isFocused() {
      return true;
    }
    async loadURL(url: string) {
      h.windows[h.windows.length - 1]!.url = url;
    }
    static getAllWindows() {
      return [];
    }
  }
  return {
    app: {
      enableSandbox: () => void h.enableSandbox++,
      whenReady: () => new Promise<void>((r) => (h.ready = r)),
      on: (ev: string, fn: Fn) => void (h.appHandlers.get(ev) ?? h.appHandlers.set(ev, []).get(ev)!).push(fn),
      requestSingleInstanceLock: () => true,
      quit: vi.fn(),
      exit: vi.fn(),
    },
    BrowserWindow,
    ipcMain: {
      handle: (ch: string, fn: Fn) => void h.ipcHandlers.set(ch, fn),
      removeHandler: (ch: string) => void h.ipcHandlers.delete(ch),
    },
    net: { fetch: vi.fn(async () => new Response('<html></html>', { headers: { 'content-type': 'text/html' } })) },
    Notification: class {
      static isSupported() {
        return false;
      }
      show() {}
    },
    protocol: {
      registerSchemesAsPrivileged: (s: unknown[]) => void h.schemes.push(...s),
      handle: (_scheme: string, fn: Fn) => void (h.protocolHandler = fn),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (fn: Fn) => void (h.permissionRequest = fn),
        setPermissionCheckHandler: (fn: Fn) => void (h.permissionCheck = fn),
        webRequest: { onHeadersReceived: (fn: Fn) => void (h.headers = fn) },
      },
    },
    shell: { openExternal: async (url: string) => void h.openExternal.push(url) },
  };
});

vi.mock('electron-store', () => ({
  default: class {
    store: Record<string, unknown>;
    path: string;
    constructor(opts: any) {
      h.storeOpts = opts;
      this.store = { ...opts.defaults };
      this.path = path.join(opts.cwd, `${opts.name}.json`);
    }
    set(k: string, v: unknown) {
      this.store[k] = v;
    }
  },
}));

describe('policies (pure)', () => {
  it('navigation only within app://workbench', () => {
    expect(isNavigationAllowed(APP_URL)).toBe(true);
    expect(isNavigationAllowed('app://workbench/#/graph')).toBe(true);
    for (const u of ['https://evil.example/', 'file:///etc/passwd', 'app://other/index.html', 'app://user:pw@workbench/', 'javascript:alert(1)', 'not a url']) {
      expect(isNavigationAllowed(u), u).toBe(false);
    }
  });
  it('new windows are denied; allow-listed https links go to the system browser', () => {
    expect(windowOpenDecision('https://www.neuronpedia.org/gemma-2-2b/12-gemmascope-res-65k/4021')).toEqual({ action: 'deny', openExternal: true });
    expect(windowOpenDecision('http://www.neuronpedia.org/')).toEqual({ action: 'deny', openExternal: false });
    expect(windowOpenDecision('https://evil.example/')).toEqual({ action: 'deny', openExternal: false });
    expect(windowOpenDecision('file:///etc/passwd')).toEqual({ action: 'deny', openExternal: false });
  });
  it('permissions are denied', () => {
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal']) expect(permissionDecision(p)).toBe(false);
  });
  it('trusted senders: our WebContents, top frame, app URL', () => {
    const ids = new Set([3]);
    expect(isTrustedSender({ id: 3 }, { url: APP_URL, parent: null }, ids)).toBe(true);
    expect(isTrustedSender({ id: 4 }, { url: APP_URL, parent: null }, ids)).toBe(false);
    expect(isTrustedSender({ id: 3 }, { url: APP_URL, parent: {} }, ids)).toBe(false);
    expect(isTrustedSender({ id: 3 }, { url: 'https://evil.example/', parent: null }, ids)).toBe(false);
    expect(isTrustedSender({ id: 3 }, null, ids)).toBe(false);
  });
  it('app:// URLs map inside the renderer folder only', () => {
    expect(appUrlToRelativePath('app://workbench/')).toBe('index.html');
    expect(appUrlToRelativePath('app://workbench/assets/index.js')).toBe('assets/index.js');
    // The URL parser resolves dot segments first: they can never climb above the root.
    expect(appUrlToRelativePath('app://workbench/../secret')).toBe('secret');
    expect(appUrlToRelativePath('app://workbench/%2e%2e/%2e%2e/secret')).toBe('secret');
    for (const u of ['app://workbench/a%2f..%2f..%2fsecret', 'app://workbench/a%5c..%5csecret', 'app://workbench/a%00b', 'app://other/x', 'https://workbench/x']) {
      expect(appUrlToRelativePath(u), u).toBeNull();
    }
  });
});

describe('preload', () => {
  it('exposes only invoke/subscribe on window.workbench, never ipcRenderer', async () => {
    const exposed: Record<string, any> = {};
    const calls: unknown[][] = [];
    const listeners = new Map<string, Fn>();
    const ipcRenderer = {
      invoke: async (...a: unknown[]) => {
        calls.push(a);
        return { ok: true, result: 1 };
      },
      on: (ch: string, fn: Fn) => void listeners.set(ch, fn),
      removeListener: (ch: string) => void listeners.delete(ch),
    };
    const electron = { contextBridge: { exposeInMainWorld: (k: string, v: unknown) => (exposed[k] = v) }, ipcRenderer };
    const src = readFileSync(PRELOAD_PATH, 'utf8');
    vm.runInNewContext(src, { require: (m: string) => (m === 'electron' ? electron : undefined), process: { type: 'renderer' } });
    const bridge = exposed.workbench;
    expect(Object.keys(bridge).sort()).toEqual(['invoke', 'subscribe']);
    expect(Object.isFrozen(bridge)).toBe(true);
    expect(await bridge.invoke('app.info')).toEqual({ ok: true, result: 1 });
    expect(calls).toEqual([['workbench:call', 'app.info', {}]]);
    const got: unknown[] = [];
    const off = bridge.subscribe((e: unknown) => got.push(e));
    listeners.get('workbench:event')!({ sender: 'not exposed' }, { type: 'x' });
    expect(got).toEqual([{ type: 'x' }]);
    off();
    expect(listeners.has('workbench:event')).toBe(false);
  });
});

describe('main process (mocked electron)', () => {
  let t: ReturnType<typeof tempDir>;
  const env = { ...process.env };
  beforeAll(async () => {
    t = tempDir('rw-electron-');
    process.env.REFUSAL_WORKBENCH_CONFIG_DIR = path.join(t.dir, 'config');
    process.env.HOME = t.dir;
    await import('../../main/electron/main.js');
    expect(h.enableSandbox).toBe(1);
    h.ready!();
    // the window loads asynchronously; wait for it (generous bound: a busy machine is not a failure)
    await vi.waitFor(() => expect(h.windows[0]?.url).toBeTruthy(), { timeout: 60_000, interval: 10 });
  });
  afterAll(() => {
    process.env = env;
    t.cleanup();
  });

  it('registers the app:// scheme, sandbox for all renderers, settings on the shared file', () => {
    expect(h.schemes).toEqual([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
    expect(h.storeOpts).toMatchObject({ name: 'settings', cwd: path.join(t.dir, 'config') });
  });

  it('opens one window with the secure preferences on app://workbench, showing the demo project on first run', () => {
    expect(h.windows).toHaveLength(1);
    const w = h.windows[0]!;
    expect(w.opts.webPreferences).toEqual(secureWebPreferences());
    expect(w.opts.webPreferences.preload).toBe(fileURLToPath(new URL('../../main/electron/preload.cjs', import.meta.url)));
    expect(w.url).toBe(APP_URL);
  });

  it('denies permission requests and checks', () => {
    for (const p of ['media', 'notifications', 'geolocation']) {
      const cb = vi.fn();
      h.permissionRequest!({}, p, cb, { requestingUrl: APP_URL });
      expect(cb).toHaveBeenCalledWith(false);
      expect(h.permissionCheck!({}, p, 'app://workbench')).toBe(false);
    }
  });

  it('adds the CSP header to every response', () => {
    const cb = vi.fn();
    h.headers!({ responseHeaders: { 'content-type': ['text/html'] } }, cb);
    const headers = cb.mock.calls[0]![0].responseHeaders;
    expect(headers['Content-Security-Policy'][0]).toMatch(/default-src 'self'/);
    expect(headers['content-type']).toEqual(['text/html']);
  });

  it('blocks navigation, redirects, webviews and new windows in every WebContents', () => {
    const handlers = new Map<string, Fn>();
    let openHandler: Fn | null = null;
    const contents = { on: (ev: string, fn: Fn) => void handlers.set(ev, fn), setWindowOpenHandler: (fn: Fn) => void (openHandler = fn) };
    for (const fn of h.appHandlers.get('web-contents-created')!) fn({}, contents);
    const nav = (ev: string, url: string) => {
      const e = { preventDefault: vi.fn() };
      handlers.get(ev)!(e, url);
      return e.preventDefault.mock.calls.length > 0;
    };
    expect(nav('will-navigate', 'https://evil.example/')).toBe(true);
    expect(nav('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(nav('will-navigate', 'app://workbench/#/graph')).toBe(false);
    expect(nav('will-redirect', 'https://evil.example/')).toBe(true);
    const wv = { preventDefault: vi.fn() };
    handlers.get('will-attach-webview')!(wv);
    expect(wv.preventDefault).toHaveBeenCalled();
    expect(openHandler!({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    expect(openHandler!({ url: 'https://www.neuronpedia.org/x' })).toEqual({ action: 'deny' });
    expect(h.openExternal).toEqual(['https://www.neuronpedia.org/x']);
  });

  it('serves only renderer files through app://', async () => {
    for (const u of ['app://workbench/../../etc/passwd', 'app://workbench/%2e%2e/%2e%2e/etc/passwd', 'app://evil/index.html']) {
      const res: Response = await h.protocolHandler!({ url: u });
      expect(res.status, u).toBe(404);
    }
  });

  it('answers IPC from its window only, validated', async () => {
    const call = h.ipcHandlers.get('workbench:call')!;
    const id = h.windows[0]!.webContents.id;
    const ok = await call({ sender: { id }, senderFrame: { url: APP_URL, parent: null } }, 'projects.current', {});
    expect(ok).toMatchObject({ ok: true, result: { name: 'demo' } });
    const bad = await call({ sender: { id }, senderFrame: { url: APP_URL, parent: null } }, 'features.update', { id: 'nope' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    const foreign = await call({ sender: { id: id + 100 }, senderFrame: { url: APP_URL, parent: null } }, 'projects.current', {});
    expect(foreign).toMatchObject({ ok: false, error: { code: 'UNTRUSTED_SENDER' } });
  });
});
