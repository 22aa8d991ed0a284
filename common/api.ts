/**
 * The WorkbenchApi contract: one typed API, two transports (Electron IPC through the preload
 * bridge, HTTP+WebSocket through the headless server). The renderer depends only on this file and
 * its own code.
 *
 * - `ApiSpec` maps every method name (`group.method`) to `[request, response]`.
 * - `requestSchemas` validates every request at the receiving end (main process / server) with zod.
 * - `createApiClient(transport)` turns any transport into the nested, typed `WorkbenchApi`.
 * - Errors cross the wire as `WireError` and are re-thrown as `ApiError` on the client.
 */
import { z } from 'zod';
import { FeatureIdSchema, type FeatureNote } from './schemas/features.js';
import { SourceSchema, type ProjectFile } from './schemas/project.js';
import type { RunManifest } from './schemas/run.js';
import type { JobInfo } from './schemas/job.js';
import type { KnownStepName, StepParamsInput } from './steps/index.js';
import type { BuiltinSuiteEntry } from './suites/builtin.js';

export type { JobInfo, JobProgress, JobStatus } from './schemas/job.js';
export type { FeatureNote, FeatureId } from './schemas/features.js';
export type { ProjectFile, Source, ProjectSettings } from './schemas/project.js';
export type { RunManifest } from './schemas/run.js';
export type { BuiltinSuiteEntry } from './suites/builtin.js';

// ───────────────────────────── response types ─────────────────────────────

export interface AppInfo {
  name: string;
  version: string;
  /** Which shell answers: the Electron main process or the headless server (or in-process tests). */
  shell: 'electron' | 'server' | 'test';
  platform: string;
  /** The compute backend in use as last reported by a job, else the configured preference (e.g. "auto"). */
  backend: string;
  /** Path of the shared settings file (conf), for the about box. */
  settingsPath: string;
}

export interface AppSettings {
  recentProjects: string[];
  lastProject: string | null;
  defaultBackend: 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
  modelFolders: string[];
  saeFolders: string[];
  judgeEndpoints: { name: string; url: string; model?: string }[];
  /** Where new projects go by default. */
  projectsDir: string | null;
}

export interface RecentProject {
  dir: string;
  name: string | null;
  /** false when the folder is gone or not a project any more. */
  exists: boolean;
}

export interface ProjectWarning {
  path: string;
  message: string;
  /** The last good copy that was restored, when there was one. */
  recoveredFrom?: string;
  /** Where the damaged file was moved so nothing is lost. */
  keptAs?: string;
}

export interface ProjectInfo {
  dir: string;
  name: string;
  project: ProjectFile;
  /** Problems met while opening (e.g. a corrupt file recovered from its last good copy). */
  warnings: ProjectWarning[];
}

export interface RunSummary {
  id: string;
  step: string;
  status: RunManifest['status'];
  startedAt: string;
  finishedAt?: string;
}

export interface FileEntry {
  name: string;
  /** Relative to the project folder, with forward slashes. */
  path: string;
  type: 'file' | 'dir';
  size: number;
}

export interface StepInfo {
  name: string;
  title: string;
  description: string;
}

/** A built-in suite copied into the project (`suites.importBuiltin`): where, and which version. */
export interface ImportedBuiltinSuite {
  /** Project-relative path of the copy (a PromptSuite with `builtin` provenance). */
  path: string;
  name: string;
  items: number;
  /** sha256 of the built-in file the copy was made from. */
  sha256: string;
}

/** SAE release registry (issue 15): what a chooser shows of one release. */
export interface SaeReleaseInfo {
  id: string;
  title: string;
  repoId: string;
  format: 'gemmascope' | 'llamascope' | 'saelens';
  model: string;
  chatModels: string[];
  neuronpediaModel: string | null;
  layers: number[];
  widths: string[];
  /** width → layer → L0 choices */
  l0s: Record<string, Record<number, number[]>>;
  canonical: boolean;
}

/** Where a release's picked SAEs (and its models) are in the local Hugging Face cache. */
export interface SaeReleaseLocation {
  release: SaeReleaseInfo;
  cacheDir: string;
  commit: string | null;
  complete: boolean;
  /** `huggingface-cli download … --include …` for exactly the missing files, or null. */
  download: string | null;
  saes: Array<{ id: string; layer: number; width: string | null; l0: number | null; hook: string; neuronpedia: string | null; path: string | null; problem: string | null }>;
  /** The release's base and chat models as found in the cache (path null: not downloaded, with the command). */
  models: Array<{ repoId: string; path: string | null; problem: string | null; download: string }>;
  notes: string[];
}

// ───────────────────────────── request schemas ─────────────────────────────

const Empty = z.object({}).strict();
/** A path inside the project, relative to its folder; the store refuses anything that resolves outside. */
const ProjectPath = z.string().min(1).max(4096);
const AbsDir = z.string().min(1).max(4096);

const SettingsPatch = z
  .object({
    recentProjects: z.array(z.string()),
    lastProject: z.string().nullable(),
    defaultBackend: z.enum(['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu']),
    modelFolders: z.array(z.string()),
    saeFolders: z.array(z.string()),
    judgeEndpoints: z.array(z.object({ name: z.string(), url: z.string().url(), model: z.string().optional() })),
    projectsDir: z.string().nullable(),
  })
  .partial()
  .strict();

export const requestSchemas = {
  'app.info': Empty,
  'settings.get': Empty,
  'settings.update': SettingsPatch,
  'projects.recent': Empty,
  'projects.current': Empty,
  'projects.create': z.object({ dir: AbsDir, name: z.string().min(1).max(200) }).strict(),
  'projects.open': z.object({ dir: AbsDir }).strict(),
  'projects.rename': z.object({ name: z.string().min(1).max(200) }).strict(),
  'projects.close': Empty,
  'projects.updateSettings': z.object({ settings: z.record(z.string(), z.unknown()) }).strict(),
  'projects.addSource': z.object({ source: SourceSchema }).strict(),
  'features.list': Empty,
  'features.update': z
    .object({
      id: FeatureIdSchema,
      label: z.string().max(10_000).optional(),
      notes: z.string().max(1_000_000).optional(),
      tags: z.array(z.string().max(200)).max(1000).optional(),
    })
    .strict(),
  'runs.list': Empty,
  'runs.get': z.object({ id: z.string().min(1).max(200) }).strict(),
  'files.list': z.object({ path: ProjectPath }).strict(),
  'files.readText': z.object({ path: ProjectPath }).strict(),
  'files.writeText': z.object({ path: ProjectPath, text: z.string().max(50_000_000) }).strict(),
  /** Binary exports (PNG, PDF) travel base64-encoded over both transports. */
  'files.writeBase64': z.object({ path: ProjectPath, base64: z.string().max(70_000_000).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64') }).strict(),
  /** A report rendered to PDF by the desktop app (Electron printToPDF); the headless server refuses it. */
  'files.writePdf': z.object({ path: ProjectPath, html: z.string().max(20_000_000) }).strict(),
  'jobs.steps': Empty,
  'jobs.list': Empty,
  'jobs.get': z.object({ id: z.string().min(1).max(100) }).strict(),
  'jobs.start': z
    .object({
      step: z.string().min(1).max(200),
      params: z.record(z.string(), z.unknown()).optional(),
      title: z.string().max(200).optional(),
    })
    .strict(),
  'jobs.cancel': z.object({ id: z.string().min(1).max(100) }).strict(),
  'jobs.clearFinished': Empty,
  /** The built-in prompt suites (assets/suites/index.json): source, licence, citation, role, count, hash. */
  'suites.builtin': Empty,
  /** Copy a built-in suite into the project (suites/builtin-<name>.json), recording its hash. */
  'suites.importBuiltin': z.object({ name: z.string().regex(/^[a-z0-9_]{1,100}$/, 'a built-in suite name') }).strict(),
  'saes.releases': Empty,
  'saes.locate': z
    .object({
      release: z.string().min(1).max(200),
      width: z.string().max(20).optional(),
      layers: z.array(z.number().int().min(0).max(1000)).max(1000).optional(),
      l0: z.number().positive().max(1e6).optional(),
      saeId: z.string().max(300).optional(),
    })
    .strict(),
} as const;

type Req<K extends keyof typeof requestSchemas> = z.input<(typeof requestSchemas)[K]>;

/**
 * `jobs.start`, typed by step name: `params` is the step's own parameter type (common/steps). At run time
 * the job queue checks them against the step's schema — a bad value is an INVALID_REQUEST naming
 * `params.<field>` (HTTP 400 on the headless server), never a failed job.
 */
export type JobStartRequest = {
  [N in KnownStepName]: { step: N; params?: StepParamsInput<N>; title?: string };
}[KnownStepName];

/** method → [request, response] */
export interface ApiSpec {
  'app.info': [Req<'app.info'>, AppInfo];
  'settings.get': [Req<'settings.get'>, AppSettings];
  'settings.update': [Req<'settings.update'>, AppSettings];
  'projects.recent': [Req<'projects.recent'>, RecentProject[]];
  'projects.current': [Req<'projects.current'>, ProjectInfo | null];
  'projects.create': [Req<'projects.create'>, ProjectInfo];
  'projects.open': [Req<'projects.open'>, ProjectInfo];
  'projects.rename': [Req<'projects.rename'>, ProjectInfo];
  'projects.close': [Req<'projects.close'>, null];
  'projects.updateSettings': [Req<'projects.updateSettings'>, ProjectInfo];
  'projects.addSource': [Req<'projects.addSource'>, ProjectInfo];
  'features.list': [Req<'features.list'>, Record<string, FeatureNote>];
  'features.update': [Req<'features.update'>, FeatureNote];
  'runs.list': [Req<'runs.list'>, RunSummary[]];
  'runs.get': [Req<'runs.get'>, RunManifest];
  'files.list': [Req<'files.list'>, FileEntry[]];
  'files.readText': [Req<'files.readText'>, string];
  'files.writeText': [Req<'files.writeText'>, { path: string }];
  'files.writeBase64': [Req<'files.writeBase64'>, { path: string }];
  'files.writePdf': [Req<'files.writePdf'>, { path: string }];
  'jobs.steps': [Req<'jobs.steps'>, StepInfo[]];
  'jobs.list': [Req<'jobs.list'>, JobInfo[]];
  'jobs.get': [Req<'jobs.get'>, JobInfo];
  'jobs.start': [JobStartRequest, JobInfo];
  'jobs.cancel': [Req<'jobs.cancel'>, JobInfo];
  'jobs.clearFinished': [Req<'jobs.clearFinished'>, null];
  'suites.builtin': [Req<'suites.builtin'>, BuiltinSuiteEntry[]];
  'suites.importBuiltin': [Req<'suites.importBuiltin'>, ImportedBuiltinSuite];
  'saes.releases': [Req<'saes.releases'>, SaeReleaseInfo[]];
  'saes.locate': [Req<'saes.locate'>, SaeReleaseLocation];
}

export type ApiMethod = keyof ApiSpec;
export type ApiRequest<K extends ApiMethod> = ApiSpec[K][0];
export type ApiResponse<K extends ApiMethod> = ApiSpec[K][1];
export const API_METHODS = Object.keys(requestSchemas) as ApiMethod[];

export function isApiMethod(m: unknown): m is ApiMethod {
  return typeof m === 'string' && Object.prototype.hasOwnProperty.call(requestSchemas, m);
}

// ───────────────────────────── events ─────────────────────────────

export type ApiEvent =
  | { type: 'job'; job: JobInfo }
  | { type: 'jobLog'; id: string; line: string }
  | { type: 'project'; project: ProjectInfo | null }
  | { type: 'backend'; backend: string }
  | { type: 'features'; id: string; note: FeatureNote }
  | { type: 'notification'; level: 'info' | 'success' | 'warning' | 'error'; message: string };

// ───────────────────────────── errors on the wire ─────────────────────────────

export interface WireError {
  name: string;
  message: string;
  /** A machine-readable code, e.g. `PATH_OUTSIDE_PROJECT`, `CORRUPT_FILE`, `INVALID_REQUEST`. */
  code?: string;
  /** The file the error is about, when there is one. */
  path?: string;
}

export type WireResult = { ok: true; result: unknown } | { ok: false; error: WireError };

export class ApiError extends Error {
  readonly code?: string;
  readonly path?: string;
  constructor(e: WireError) {
    super(e.message);
    this.name = e.name || 'ApiError';
    this.code = e.code;
    this.path = e.path;
  }
}

export function toWireError(err: unknown): WireError {
  if (err instanceof z.ZodError) {
    return {
      name: 'InvalidRequest',
      code: 'INVALID_REQUEST',
      message: err.issues.map((i) => `${i.path.join('.') || '(request)'}: ${i.message}`).join('; '),
    };
  }
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; path?: unknown };
    return {
      name: e.name,
      message: e.message,
      ...(typeof e.code === 'string' ? { code: e.code } : {}),
      ...(typeof e.path === 'string' ? { path: e.path } : {}),
    };
  }
  return { name: 'Error', message: String(err) };
}

// ───────────────────────────── the typed client ─────────────────────────────

/** What a transport must do: send one call, deliver events. */
export interface ApiTransport {
  readonly kind: 'ipc' | 'websocket' | 'direct';
  invoke(method: ApiMethod, req: unknown): Promise<unknown>;
  subscribe(listener: (e: ApiEvent) => void): () => void;
  close?(): void;
}

type Fn<K extends ApiMethod> = {} extends ApiRequest<K>
  ? (req?: ApiRequest<K>) => Promise<ApiResponse<K>>
  : (req: ApiRequest<K>) => Promise<ApiResponse<K>>;

type Group<G extends string> = {
  [K in ApiMethod as K extends `${G}.${infer M}` ? M : never]: Fn<K>;
};

export interface WorkbenchApi {
  app: Group<'app'>;
  settings: Group<'settings'>;
  projects: Group<'projects'>;
  features: Group<'features'>;
  runs: Group<'runs'>;
  files: Group<'files'>;
  jobs: Group<'jobs'>;
  suites: Group<'suites'>;
  saes: Group<'saes'>;
  /** Generic entry, same checks as the typed methods. */
  call<K extends ApiMethod>(method: K, req: ApiRequest<K>): Promise<ApiResponse<K>>;
  onEvent(listener: (e: ApiEvent) => void): () => void;
  readonly transport: ApiTransport['kind'];
  close(): void;
}

export function createApiClient(transport: ApiTransport): WorkbenchApi {
  const call = (method: ApiMethod, req: unknown) => transport.invoke(method, req ?? {});
  const groups: Record<string, Record<string, (req?: unknown) => Promise<unknown>>> = {};
  for (const m of API_METHODS) {
    const [g, name] = m.split('.') as [string, string];
    (groups[g] ??= {})[name] = (req?: unknown) => call(m, req);
  }
  return {
    ...(groups as unknown as Omit<WorkbenchApi, 'call' | 'onEvent' | 'transport' | 'close'>),
    call: ((method: ApiMethod, req: unknown) => call(method, req)) as WorkbenchApi['call'],
    onEvent: (l) => transport.subscribe(l),
    transport: transport.kind,
    close: () => transport.close?.(),
  };
}

/** The preload bridge's shape on `window.workbench` (Electron). */
export interface PreloadBridge {
  invoke(method: string, req: unknown): Promise<WireResult>;
  subscribe(listener: (e: ApiEvent) => void): () => void;
}
