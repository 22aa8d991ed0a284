/**
 * The same API suite over both transports: Electron IPC (in-process shim around the real ipc.ts and
 * preload bridge) and the headless server's WebSocket. Both must behave identically.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import * as path from 'node:path';
import { WebSocket as NodeWebSocket } from 'ws';
import { ApiError, createApiClient, type ApiEvent, type JobInfo, type WorkbenchApi } from '../../common/api.js';
import { WorkbenchCore } from '../../main/server/core.js';
import { startServer, type RunningServer } from '../../main/server/server.js';
import { registerIpc } from '../../main/electron/ipc.js';
import { APP_URL } from '../../main/electron/policy.js';
import { Settings } from '../../main/settings/settings.js';
import { createIpcTransport } from '../../renderer/src/api/ipc-transport.js';
import { createWsTransport } from '../../renderer/src/api/ws-transport.js';
import { IpcShim } from './ipc-shim.js';
import { tempDir } from './helpers.js';

interface Harness {
  api: WorkbenchApi;
  dir: string;
  close(): Promise<void>;
}

function makeCore(dir: string) {
  return new WorkbenchCore({
    settings: Settings.open(path.join(dir, 'config')),
    shell: 'test',
    projectsDir: path.join(dir, 'projects'),
    demoAssetsDir: path.join(dir, 'no-assets'),
    notifyAfterMs: 0,
    queueOptions: { testSteps: true },
  });
}

async function ipcHarness(): Promise<Harness> {
  const t = tempDir('rw-contract-ipc-');
  const core = makeCore(t.dir);
  const shim = new IpcShim();
  const trusted = new Set([1]);
  const reg = registerIpc(shim.ipcMain, core, trusted);
  const r = shim.renderer(1, APP_URL);
  reg.addTarget(r.target);
  return {
    api: createApiClient(createIpcTransport(r.bridge)),
    dir: t.dir,
    close: async () => {
      reg.dispose();
      await core.close();
      t.cleanup();
    },
  };
}

async function wsHarness(): Promise<Harness> {
  const t = tempDir('rw-contract-ws-');
  const core = makeCore(t.dir);
  const server: RunningServer = await startServer({ core, staticDir: path.join(t.dir, 'no-dist') });
  const transport = createWsTransport({
    url: `ws://127.0.0.1:${server.port}/api/ws`,
    token: server.token,
    WebSocketImpl: NodeWebSocket as unknown as typeof WebSocket,
  });
  await transport.ready();
  return {
    api: createApiClient(transport),
    dir: t.dir,
    close: async () => {
      transport.close?.();
      await server.close();
      await core.close();
      t.cleanup();
    },
  };
}

/** Resolves on the job's own event; the bound is generous so a loaded machine is not a failure. */
function waitForJob(api: WorkbenchApi, id: string, pred: (j: JobInfo) => boolean, timeoutMs = 120_000): Promise<JobInfo> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      off();
      reject(new Error(`job ${id}: condition not met in ${timeoutMs} ms`));
    }, timeoutMs);
    const off = api.onEvent((e) => {
      if (e.type === 'job' && e.job.id === id && pred(e.job)) {
        clearTimeout(t);
        off();
        resolve(e.job);
      }
    });
    // It may already be true.
    void api.jobs.get({ id }).then((j) => {
      if (pred(j)) {
        clearTimeout(t);
        off();
        resolve(j);
      }
    });
  });
}

async function expectApiError(p: Promise<unknown>, code: string): Promise<ApiError> {
  const e = await p.then(
    () => null,
    (err) => err,
  );
  expect(e, `expected ${code}`).toBeInstanceOf(ApiError);
  expect((e as ApiError).code).toBe(code);
  return e as ApiError;
}

describe.each([
  ['Electron IPC (in-process shim)', ipcHarness],
  ['WebSocket server', wsHarness],
] as const)('WorkbenchApi over %s', (_name, make) => {
  let h: Harness;
  const events: ApiEvent[] = [];
  beforeAll(async () => {
    h = await make();
    h.api.onEvent((e) => events.push(e));
  });
  afterAll(async () => h?.close());

  it('app.info and settings', async () => {
    const info = await h.api.app.info();
    expect(info).toMatchObject({ name: 'Refusal Workbench', shell: 'test' });
    expect(info.settingsPath.startsWith(h.dir)).toBe(true);
    const s = await h.api.settings.update({ defaultBackend: 'wasm', judgeEndpoints: [{ name: 'local', url: 'http://127.0.0.1:8000/v1' }] });
    expect(s.defaultBackend).toBe('wasm');
    expect((await h.api.settings.get()).judgeEndpoints).toHaveLength(1);
    await expectApiError(h.api.settings.update({ defaultBackend: 'tpu' as never }), 'INVALID_REQUEST');
  });

  it('no project: calls that need one say so', async () => {
    expect(await h.api.projects.current()).toBeNull();
    await expectApiError(h.api.features.list(), 'NO_PROJECT');
  });

  it('projects: create, rename (with an event), recent, close, open', async () => {
    const dir = path.join(h.dir, 'p1');
    const created = await h.api.projects.create({ dir, name: 'First' });
    expect(created).toMatchObject({ dir, name: 'First', warnings: [] });
    expect(created.project).toMatchObject({ kind: 'refusal-workbench/project', schemaVersion: 2 });
    const renamed = await h.api.projects.rename({ name: 'Renamed' });
    expect(renamed.name).toBe('Renamed');
    await new Promise((r) => setTimeout(r, 50));
    expect(events.some((e) => e.type === 'project' && e.project?.name === 'Renamed')).toBe(true);
    expect(await h.api.projects.recent()).toEqual([{ dir, name: 'Renamed', exists: true }]);
    await h.api.projects.close();
    expect(await h.api.projects.current()).toBeNull();
    expect((await h.api.projects.open({ dir })).name).toBe('Renamed');
    await expectApiError(h.api.projects.open({ dir: path.join(h.dir, 'nothing-here') }), 'NOT_A_PROJECT');
    const p = await h.api.projects.updateSettings({ settings: { seed: 7 } });
    expect(p.project.settings.seed).toBe(7);
    const s = await h.api.projects.addSource({ source: { type: 'model', path: '/models/x', label: 'x' } });
    expect(s.project.sources).toEqual([{ type: 'model', path: '/models/x', label: 'x' }]);
  });

  it('features: update and list; bad ids are refused by validation', async () => {
    const note = await h.api.features.update({ id: 'L15/30001', label: 'refusal', tags: ['refusal'] });
    expect(note).toMatchObject({ label: 'refusal', notes: '', tags: ['refusal'] });
    expect((await h.api.features.list())['L15/30001']?.label).toBe('refusal');
    const e = await expectApiError(h.api.features.update({ id: 'layer15' }), 'INVALID_REQUEST');
    expect(e.message).toMatch(/L\{layer\}\/\{index\}/);
    await expectApiError(h.api.call('features.update', { id: 'L1/1', extra: true } as never), 'INVALID_REQUEST');
  });

  it('unknown methods are refused', async () => {
    await expectApiError(h.api.call('fs.readAnything' as never, {} as never), 'UNKNOWN_METHOD');
  });

  it('files: inside the project works, outside is refused', async () => {
    expect(await h.api.files.writeText({ path: 'exports/t.csv', text: 'a,b\n1,2\n' })).toEqual({ path: 'exports/t.csv' });
    expect(await h.api.files.readText({ path: 'exports/t.csv' })).toBe('a,b\n1,2\n');
    expect((await h.api.files.list({ path: 'exports' })).map((f) => f.path)).toEqual(['exports/t.csv']);
    for (const bad of ['../outside.txt', '/etc/passwd', 'exports/../../x']) {
      const err = await expectApiError(h.api.files.readText({ path: bad }), 'PATH_OUTSIDE_PROJECT');
      expect(err.path).toBe(bad);
    }
    await expectApiError(h.api.files.writeText({ path: '../evil.txt', text: 'x' }), 'PATH_OUTSIDE_PROJECT');
  });

  it('jobs: steps, start with progress events, result, run listed with its manifest', async () => {
    const steps = await h.api.jobs.steps();
    expect(steps.map((s) => s.name)).toContain('demo.count');
    const job = await h.api.jobs.start({ step: 'demo.count', params: { n: 6, ms: 30 } });
    expect(['queued', 'running']).toContain(job.status);
    const progressing = await waitForJob(h.api, job.id, (j) => j.status === 'running' && (j.progress.fraction ?? 0) > 0);
    expect(progressing.progress.stage).toBe('counting');
    const done = await waitForJob(h.api, job.id, (j) => j.status === 'succeeded');
    expect(done.result).toEqual({ counted: 6 });
    expect((await h.api.jobs.list()).map((j) => j.id)).toContain(job.id);
    const runs = await h.api.runs.list();
    expect(runs.map((r) => r.id)).toContain(job.id);
    expect(await h.api.runs.get({ id: job.id })).toMatchObject({ step: 'demo.count', status: 'succeeded' });
    // long-job notification (notifyAfterMs: 0 here)
    expect(events.some((e) => e.type === 'notification' && e.message.includes('succeeded'))).toBe(true);
    await expectApiError(h.api.jobs.start({ step: 'no.such.step' } as never), 'UNKNOWN_STEP');
  });

  // A minute per tick: cancelled with no tick done means the step was interrupted mid-sleep (state, not clock).
  it('jobs: cancel interrupts a running step without waiting for its next tick', async () => {
    const job = await h.api.jobs.start({ step: 'demo.count', params: { n: 2, ms: 60_000 } });
    await waitForJob(h.api, job.id, (j) => j.status === 'running' && j.progress.stage === 'counting');
    await h.api.jobs.cancel({ id: job.id });
    const done = await waitForJob(h.api, job.id, (j) => j.status === 'cancelled');
    expect(done.progress.fraction).toBe(0);
    expect(done.error).toBe('cancelled');
    await h.api.jobs.clearFinished();
    expect(await h.api.jobs.list()).toEqual([]);
    await expectApiError(h.api.jobs.get({ id: job.id }), 'UNKNOWN_JOB');
  });
});

describe('Electron IPC trust', () => {
  it('refuses calls from other WebContents, sub-frames and foreign URLs', async () => {
    const t = tempDir('rw-ipc-trust-');
    const core = makeCore(t.dir);
    const shim = new IpcShim();
    const reg = registerIpc(shim.ipcMain, core, new Set([1]));
    try {
      const ok = await shim.renderer(1, APP_URL).bridge.invoke('app.info', {});
      expect(ok.ok).toBe(true);
      for (const [id, url, sub] of [
        [2, APP_URL, false],
        [1, 'https://evil.example/', false],
        [1, 'file:///etc/passwd', false],
        [1, APP_URL, true],
      ] as const) {
        const r = await shim.renderer(id, url, { subFrame: sub }).bridge.invoke('app.info', {});
        expect(r).toMatchObject({ ok: false, error: { code: 'UNTRUSTED_SENDER' } });
      }
    } finally {
      reg.dispose();
      await core.close();
      t.cleanup();
    }
  });
});
