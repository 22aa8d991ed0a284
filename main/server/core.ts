/**
 * WorkbenchCore: the transport-independent implementation of WorkbenchApi. Both transports — the
 * Electron IPC handler (main/electron/ipc.ts) and the HTTP+WebSocket server (main/server/server.ts) —
 * hand it `(method, request)` pairs through `dispatch`, which validates the request with zod and
 * returns a WireResult; events (job progress, project changes, notifications) go out through `on('event')`.
 */
import { EventEmitter } from 'node:events';
import * as os from 'node:os';
import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  isApiMethod,
  requestSchemas,
  toWireError,
  type ApiEvent,
  type ApiMethod,
  type ApiResponse,
  type AppInfo,
  type RecentProject,
  type WireResult,
} from '../../common/api.js';
import type { z } from 'zod';
import { JobQueue, type JobQueueOptions } from '../jobs/queue.js';
import { Project, isProjectDir, readProjectName } from '../projects/store.js';
import { NoProjectOpenError } from '../projects/errors.js';
import { ensureDemoProject, DEMO_ASSETS_DIR } from '../projects/demo.js';
import { Settings } from '../settings/settings.js';
import { builtinIndex, resolveBuiltinSuite } from '../../workers/suites/builtin.js';
import { locateReleaseForApi } from '../../workers/sae/locate-api.js';
import { releaseSummary, saeRegistry } from '../../workers/sae/releases.js';

type Parsed<K extends ApiMethod> = z.output<(typeof requestSchemas)[K]>;
type Handlers = { [K in ApiMethod]: (req: Parsed<K>) => Promise<ApiResponse<K>> };

export interface WorkbenchCoreOptions {
  settings: Settings;
  shell: AppInfo['shell'];
  queue?: JobQueue;
  queueOptions?: JobQueueOptions;
  /** Where the demo project is created on first run (default <projectsDir>/demo). */
  projectsDir?: string;
  demoAssetsDir?: string;
  /** Jobs running longer than this get a notification when they finish (ms, default 10 s). */
  notifyAfterMs?: number;
  /** HTML → PDF bytes; only the desktop shell has one (Electron printToPDF). */
  printToPdf?: (html: string) => Promise<Uint8Array>;
  /** Environment for the Hugging Face cache lookup (HF_HOME, HF_HUB_CACHE); default process.env. */
  env?: NodeJS.ProcessEnv;
}

let version = '0.0.0';
try {
  version = JSON.parse(readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../package.json'), 'utf8')).version ?? version;
} catch {
  /* bundled without package.json */
}

export class WorkbenchCore extends EventEmitter<{ event: [ApiEvent] }> {
  readonly settings: Settings;
  readonly queue: JobQueue;
  private project: Project | null = null;
  private readonly handlers: Handlers;

  constructor(private readonly opts: WorkbenchCoreOptions) {
    super();
    this.setMaxListeners(100);
    this.settings = opts.settings;
    this.queue =
      opts.queue ??
      new JobQueue({ ...opts.queueOptions, projectDir: () => this.project?.dir ?? null });
    this.queue.on('job', (job) => this.emit('event', { type: 'job', job }));
    this.queue.on('backend', (backend) => this.emit('event', { type: 'backend', backend }));
    this.queue.on('finished', (job) => {
      const took = job.startedAt && job.finishedAt ? Date.parse(job.finishedAt) - Date.parse(job.startedAt) : 0;
      if (took >= (this.opts.notifyAfterMs ?? 10_000) || job.status === 'failed') {
        this.emit('event', {
          type: 'notification',
          level: job.status === 'succeeded' ? 'success' : job.status === 'failed' ? 'error' : 'info',
          message: `${job.title}: ${job.status}${job.error && job.status === 'failed' ? ` — ${job.error}` : ''}`,
        });
      }
    });
    this.handlers = this.makeHandlers();
  }

  get projectsDir(): string {
    return this.opts.projectsDir ?? this.settings.get().projectsDir ?? path.join(os.homedir(), 'RefusalWorkbench');
  }

  currentProject(): Project | null {
    return this.project;
  }

  private requireProject(): Project {
    if (!this.project) throw new NoProjectOpenError();
    return this.project;
  }

  private setProject(p: Project | null): void {
    this.project = p;
    if (p) this.settings.touchRecent(p.dir);
    this.emit('event', { type: 'project', project: p?.info() ?? null });
  }

  async openProject(dir: string): Promise<Project> {
    const p = await Project.open(dir);
    this.setProject(p);
    for (const w of p.warnings) {
      this.emit('event', { type: 'notification', level: 'warning', message: `${w.path}: ${w.message}` });
    }
    return p;
  }

  /**
   * What to show at start-up: the last project if it still opens; on first run (nothing recent),
   * the bundled demo project.
   */
  async openStartupProject(): Promise<Project | null> {
    const s = this.settings.get();
    if (s.lastProject && (await isProjectDir(s.lastProject))) {
      try {
        return await this.openProject(s.lastProject);
      } catch {
        /* fall through */
      }
    }
    if (s.recentProjects.length === 0 || !s.lastProject) {
      const demo = await ensureDemoProject(path.join(this.projectsDir, 'demo'), this.opts.demoAssetsDir ?? DEMO_ASSETS_DIR);
      this.setProject(demo);
      return demo;
    }
    return null;
  }

  /** Validate and run one API call; never throws. */
  async dispatch(method: unknown, req: unknown): Promise<WireResult> {
    try {
      if (!isApiMethod(method)) {
        return { ok: false, error: { name: 'UnknownMethod', code: 'UNKNOWN_METHOD', message: `unknown API method ${JSON.stringify(method)}` } };
      }
      const parsed = requestSchemas[method].parse(req ?? {});
      const handler = this.handlers[method] as (r: unknown) => Promise<unknown>;
      const result = await handler(parsed);
      return { ok: true, result: result === undefined ? null : result };
    } catch (e) {
      return { ok: false, error: toWireError(e) };
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.removeAllListeners();
  }

  private makeHandlers(): Handlers {
    return {
      'app.info': async () => ({
        name: 'Refusal Workbench',
        version,
        shell: this.opts.shell,
        platform: `${process.platform}-${process.arch}`,
        backend: this.queue.backend ?? String(this.project?.info().project.settings.backend ?? this.settings.get().defaultBackend),
        settingsPath: this.settings.path,
      }),
      'settings.get': async () => this.settings.get(),
      'settings.update': async (patch) => this.settings.update(patch),
      'projects.recent': async () => {
        const out: RecentProject[] = [];
        for (const dir of this.settings.get().recentProjects) {
          const name = await readProjectName(dir);
          out.push({ dir, name, exists: name !== null });
        }
        return out;
      },
      'projects.current': async () => this.project?.info() ?? null,
      'projects.create': async ({ dir, name }) => {
        const p = await Project.create(dir, name);
        this.setProject(p);
        return p.info();
      },
      'projects.open': async ({ dir }) => (await this.openProject(dir)).info(),
      'projects.rename': async ({ name }) => {
        const info = await this.requireProject().rename(name);
        this.settings.touchRecent(info.dir);
        this.emit('event', { type: 'project', project: info });
        return info;
      },
      'projects.close': async () => {
        this.project = null;
        this.settings.update({ lastProject: null });
        this.emit('event', { type: 'project', project: null });
        return null;
      },
      'projects.updateSettings': async ({ settings }) => {
        const info = await this.requireProject().updateSettings(settings);
        this.emit('event', { type: 'project', project: info });
        return info;
      },
      'projects.addSource': async ({ source }) => {
        const p = this.requireProject();
        // A source inside the project is stored relative; outside paths are the user's own files.
        const info = await p.addSource(source);
        this.emit('event', { type: 'project', project: info });
        return info;
      },
      'features.list': async () => this.requireProject().listFeatures(),
      'features.update': async ({ id, ...patch }) => {
        const note = await this.requireProject().updateFeature(id, patch);
        this.emit('event', { type: 'features', id, note });
        return note;
      },
      'runs.list': async () => this.requireProject().listRuns(),
      'runs.get': async ({ id }) => this.requireProject().getRun(id),
      'files.list': async ({ path: p }) => this.requireProject().listFiles(p),
      'files.readText': async ({ path: p }) => this.requireProject().readText(p),
      'files.writeText': async ({ path: p, text }) => ({ path: await this.requireProject().writeText(p, text) }),
      'files.writeBase64': async ({ path: p, base64 }) => ({ path: await this.requireProject().writeText(p, Buffer.from(base64, 'base64')) }),
      'files.writePdf': async ({ path: p, html }) => {
        const print = this.opts.printToPdf;
        if (!print) {
          throw Object.assign(new Error('PDF export needs the desktop app (Electron printToPDF); export the HTML report and print it from a browser'), { code: 'UNSUPPORTED' });
        }
        const project = this.requireProject();
        return { path: await project.writeText(p, await print(html)) };
      },
      'jobs.steps': async () => this.queue.registry.list(),
      'jobs.list': async () => this.queue.list(),
      'jobs.get': async ({ id }) => this.queue.get(id),
      'jobs.start': async ({ step, params, title }) => this.queue.start(step, params ?? {}, title),
      'jobs.cancel': async ({ id }) => this.queue.cancel(id),
      'jobs.clearFinished': async () => {
        this.queue.clearFinished();
        return null;
      },
      'suites.builtin': async () => builtinIndex().suites,
      'suites.importBuiltin': async ({ name }) => {
        const project = this.requireProject();
        const b = resolveBuiltinSuite(name); // checks the file against its indexed hash
        const rel = await project.writeText(`suites/builtin-${b.entry.name}.json`, JSON.stringify(b.suite, null, 2) + '\n');
        const info = await project.addSource({ type: 'suite', path: rel, label: `${b.entry.title} (built-in)` });
        this.emit('event', { type: 'project', project: info });
        return { path: rel, name: b.entry.name, items: b.suite.items.length, sha256: b.entry.sha256 };
      },
      'saes.releases': async () => saeRegistry().releases.map(releaseSummary),
      'saes.locate': async (q) => locateReleaseForApi(q, this.opts.env),
    };
  }
}
