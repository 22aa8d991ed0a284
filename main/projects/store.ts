/**
 * A project is a folder:
 *   project.json   {kind, schemaVersion, name, createdAt, sources, settings}
 *   features.json  labels, notes, tags per feature id "L{layer}/{index}"
 *   runs/<id>/     manifest.json + results
 *   exports/       figures, tables, reports
 * Every write is atomic and keeps the last good copy as `<file>.bak`; a corrupt file found at open
 * is moved aside (`<file>.corrupt-<time>`) and the last good copy restored, with a warning that names
 * both; without a good copy, opening fails with CorruptFileError naming the file.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import {
  PROJECT_KIND,
  PROJECT_SCHEMA_VERSION,
  ProjectSettingsSchema,
  type ProjectFile,
  type Source,
} from '../../common/schemas/project.js';
import { emptyFeatures, FeatureIdSchema, type FeatureNote, type FeaturesFile } from '../../common/schemas/features.js';
import { RunManifestSchema, RunIdSchema, type RunManifest } from '../../common/schemas/run.js';
import type { FileEntry, ProjectInfo, ProjectWarning, RunSummary } from '../../common/api.js';
import { atomicWriteJson, atomicWriteFile, backupPath, cleanStaleTemps } from './atomic.js';
import { CorruptFileError, NotAProjectError } from './errors.js';
import { decodeUserText } from '../../workers/engine/io/user-file.js';
import { FileFormatError } from '../../workers/engine/errors.js';
import { featuresKind, migrateFile, projectKind } from './migrations.js';
import { resolveInsideProject, toProjectRelative } from './paths.js';

export const PROJECT_FILE = 'project.json';
export const FEATURES_FILE = 'features.json';
export const RUNS_DIR = 'runs';
export const EXPORTS_DIR = 'exports';

type Kind<T> = Parameters<typeof migrateFile<T>>[2];

const PROJECT_FILE_LIMIT = 64 * 1024 * 1024;

async function readJson(file: string): Promise<unknown> {
  // A project file replaced by a FIFO, a device or a huge file is corrupt, not something to read forever.
  const st = await fsp.stat(file); // ENOENT propagates: callers treat a missing file as absent
  if (!st.isFile()) throw new CorruptFileError(file, 'not a regular file');
  if (st.size > PROJECT_FILE_LIMIT) throw new CorruptFileError(file, `${st.size} bytes, above the ${PROJECT_FILE_LIMIT / 1024 / 1024} MiB limit for project files`);
  let text: string;
  try {
    text = decodeUserText(await fsp.readFile(file), file, 'project file');
  } catch (e) {
    throw new CorruptFileError(file, e instanceof FileFormatError ? e.problem : (e as Error).message);
  }
  if (text.length > PROJECT_FILE_LIMIT) throw new CorruptFileError(file, `above the ${PROJECT_FILE_LIMIT / 1024 / 1024} MiB limit for project files`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CorruptFileError(file, `not valid JSON (${(e as Error).message})`);
  }
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

/**
 * Load a versioned JSON file, upgrading old versions and recovering from damage with the last good copy.
 * Returns null when the file does not exist.
 */
export async function loadVersioned<T>(
  file: string,
  kind: Kind<T>,
  warnings: ProjectWarning[],
): Promise<T | null> {
  let raw: unknown;
  try {
    raw = await readJson(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if (!(e instanceof CorruptFileError)) throw e;
    return recover(file, kind, e, warnings);
  }
  try {
    const { value, migratedFrom } = migrateFile(file, raw, kind);
    if (migratedFrom !== null) {
      // Write the upgraded file; the old version stays as the .bak copy.
      await atomicWriteJson(file, value, { backup: true });
      warnings.push({ path: file, message: `upgraded from schemaVersion ${migratedFrom} to ${kind.current}`, recoveredFrom: undefined, keptAs: backupPath(file) });
    }
    return value;
  } catch (e) {
    if (!(e instanceof CorruptFileError)) throw e;
    return recover(file, kind, e, warnings);
  }
}

async function recover<T>(file: string, kind: Kind<T>, err: CorruptFileError, warnings: ProjectWarning[]): Promise<T> {
  const bak = backupPath(file);
  let good: T;
  try {
    good = migrateFile(bak, await readJson(bak), kind).value;
  } catch {
    throw new CorruptFileError(file, err.problem);
  }
  const keptAs = `${file}.corrupt-${stamp()}`;
  await fsp.rename(file, keptAs);
  await atomicWriteJson(file, good);
  warnings.push({
    path: file,
    message: `${err.problem}; restored the last good copy`,
    recoveredFrom: bak,
    keptAs,
  });
  return good;
}

export class Project {
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private file: ProjectFile,
    private features: FeaturesFile,
    readonly warnings: ProjectWarning[],
  ) {}

  static async create(dir: string, name: string): Promise<Project> {
    const abs = path.resolve(dir);
    await fsp.mkdir(abs, { recursive: true });
    try {
      await fsp.access(path.join(abs, PROJECT_FILE));
      throw new Error(`${path.join(abs, PROJECT_FILE)}: a project already exists here — open it instead`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const file: ProjectFile = {
      kind: PROJECT_KIND,
      schemaVersion: PROJECT_SCHEMA_VERSION,
      name,
      createdAt: new Date().toISOString(),
      sources: [],
      settings: ProjectSettingsSchema.parse({}),
    };
    await fsp.mkdir(path.join(abs, RUNS_DIR), { recursive: true });
    await fsp.mkdir(path.join(abs, EXPORTS_DIR), { recursive: true });
    await atomicWriteJson(path.join(abs, FEATURES_FILE), emptyFeatures());
    await atomicWriteJson(path.join(abs, PROJECT_FILE), file);
    return new Project(abs, file, emptyFeatures(), []);
  }

  static async open(dir: string): Promise<Project> {
    const abs = path.resolve(dir);
    const st = await fsp.stat(abs).catch(() => null);
    if (!st?.isDirectory()) throw new NotAProjectError(abs, 'folder does not exist');
    await cleanStaleTemps(abs);
    const warnings: ProjectWarning[] = [];
    const file = await loadVersioned(path.join(abs, PROJECT_FILE), projectKind, warnings);
    if (!file) throw new NotAProjectError(abs);
    const features = (await loadVersioned(path.join(abs, FEATURES_FILE), featuresKind, warnings)) ?? emptyFeatures();
    await fsp.mkdir(path.join(abs, RUNS_DIR), { recursive: true });
    await fsp.mkdir(path.join(abs, EXPORTS_DIR), { recursive: true });
    return new Project(abs, file, features, warnings);
  }

  get name(): string {
    return this.file.name;
  }

  info(): ProjectInfo {
    return { dir: this.dir, name: this.file.name, project: structuredClone(this.file), warnings: [...this.warnings] };
  }

  /** Serialise writes so concurrent edits never interleave. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private saveProject(next: ProjectFile): Promise<void> {
    return atomicWriteJson(path.join(this.dir, PROJECT_FILE), next, { backup: true }).then(() => {
      this.file = next;
    });
  }

  rename(name: string): Promise<ProjectInfo> {
    return this.serial(async () => {
      await this.saveProject({ ...this.file, name });
      return this.info();
    });
  }

  updateSettings(patch: Record<string, unknown>): Promise<ProjectInfo> {
    return this.serial(async () => {
      const settings = ProjectSettingsSchema.parse({ ...this.file.settings, ...patch });
      await this.saveProject({ ...this.file, settings });
      return this.info();
    });
  }

  addSource(source: Source): Promise<ProjectInfo> {
    return this.serial(async () => {
      const sources = [...this.file.sources.filter((s) => s.path !== source.path), source];
      await this.saveProject({ ...this.file, sources });
      return this.info();
    });
  }

  listFeatures(): Record<string, FeatureNote> {
    return structuredClone(this.features.features);
  }

  updateFeature(id: string, patch: Partial<Pick<FeatureNote, 'label' | 'notes' | 'tags'>>): Promise<FeatureNote> {
    FeatureIdSchema.parse(id);
    return this.serial(async () => {
      const prev = this.features.features[id] ?? { label: '', notes: '', tags: [] };
      const note: FeatureNote = {
        label: patch.label ?? prev.label,
        notes: patch.notes ?? prev.notes,
        tags: patch.tags ?? prev.tags,
        updatedAt: new Date().toISOString(),
      };
      const next: FeaturesFile = { ...this.features, features: { ...this.features.features, [id]: note } };
      await atomicWriteJson(path.join(this.dir, FEATURES_FILE), next, { backup: true });
      this.features = next;
      return structuredClone(note);
    });
  }

  /** Resolve a path input from the UI; refuses anything outside the project folder. */
  resolve(p: string): string {
    return resolveInsideProject(this.dir, p);
  }

  async listRuns(): Promise<RunSummary[]> {
    const dir = path.join(this.dir, RUNS_DIR);
    const names = await fsp.readdir(dir).catch(() => [] as string[]);
    const out: RunSummary[] = [];
    for (const n of names) {
      if (!RunIdSchema.safeParse(n).success) continue;
      try {
        const m = RunManifestSchema.parse(JSON.parse(await fsp.readFile(path.join(dir, n, 'manifest.json'), 'utf8')));
        out.push({ id: m.id, step: m.step, status: m.status, startedAt: m.startedAt, finishedAt: m.finishedAt });
      } catch {
        /* not a run folder (yet) */
      }
    }
    return out.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  async getRun(id: string): Promise<RunManifest> {
    RunIdSchema.parse(id);
    const file = this.resolve(path.join(RUNS_DIR, id, 'manifest.json'));
    const raw = await readJson(file);
    const r = RunManifestSchema.safeParse(raw);
    if (!r.success) throw new CorruptFileError(file, r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    return r.data;
  }

  async writeRunManifest(m: RunManifest): Promise<void> {
    const dir = this.resolve(path.join(RUNS_DIR, m.id));
    await fsp.mkdir(dir, { recursive: true });
    await atomicWriteJson(path.join(dir, 'manifest.json'), RunManifestSchema.parse(m));
  }

  async listFiles(p: string): Promise<FileEntry[]> {
    const abs = this.resolve(p);
    const ents = await fsp.readdir(abs, { withFileTypes: true });
    const out: FileEntry[] = [];
    for (const e of ents) {
      if (!e.isFile() && !e.isDirectory()) continue;
      const full = path.join(abs, e.name);
      const st = await fsp.stat(full);
      out.push({ name: e.name, path: toProjectRelative(this.dir, full), type: e.isDirectory() ? 'dir' : 'file', size: st.size });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async readText(p: string): Promise<string> {
    return fsp.readFile(this.resolve(p), 'utf8');
  }

  /** Atomic write of a project file (text, or bytes for binary exports); project.json and features.json are refused. */
  async writeText(p: string, text: string | Uint8Array): Promise<string> {
    const abs = this.resolve(p);
    const rel = toProjectRelative(this.dir, abs);
    if (rel === PROJECT_FILE || rel === FEATURES_FILE) {
      throw new Error(`${abs}: written through the project API only`);
    }
    await fsp.mkdir(path.dirname(abs), { recursive: true });
    this.resolve(path.dirname(abs)); // re-check after mkdir (symlinks)
    await atomicWriteFile(abs, text);
    return rel;
  }
}

export async function isProjectDir(dir: string): Promise<boolean> {
  try {
    await fsp.access(path.join(dir, PROJECT_FILE));
    return true;
  } catch {
    return false;
  }
}

export async function readProjectName(dir: string): Promise<string | null> {
  try {
    const raw = JSON.parse(await fsp.readFile(path.join(dir, PROJECT_FILE), 'utf8')) as Record<string, unknown>;
    return typeof raw.name === 'string' ? raw.name : typeof raw.title === 'string' ? raw.title : null;
  } catch {
    return null;
  }
}
