/**
 * App settings shared by the desktop app, the headless server and the CLI: one JSON file managed by
 * `conf` (atomic writes). The Electron shell opens the same file through electron-store (which is
 * built on conf) with the same name and folder, see main/electron/settings-store.ts.
 *
 * Folder: $REFUSAL_WORKBENCH_CONFIG_DIR if set (tests, portable installs), else conf's per-user default.
 */
import Conf from 'conf';
import * as path from 'node:path';
import type { AppSettings } from '../../common/api.js';

export const SETTINGS_PROJECT_NAME = 'refusal-workbench';
export const SETTINGS_CONFIG_NAME = 'settings';
export const MAX_RECENT = 12;

export const DEFAULT_SETTINGS: AppSettings = {
  recentProjects: [],
  lastProject: null,
  defaultBackend: 'auto',
  modelFolders: [],
  saeFolders: [],
  judgeEndpoints: [],
  projectsDir: null,
};

/** The subset of conf / electron-store we use, so either can back the settings. */
export interface KeyValueStore {
  readonly store: Record<string, unknown>;
  set(key: string, value: unknown): void;
  readonly path: string;
}

export function settingsDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.REFUSAL_WORKBENCH_CONFIG_DIR ? path.resolve(env.REFUSAL_WORKBENCH_CONFIG_DIR) : undefined;
}

export function openConfStore(cwd = settingsDir()): KeyValueStore {
  const conf = new Conf<Record<string, unknown>>({
    projectName: SETTINGS_PROJECT_NAME,
    configName: SETTINGS_CONFIG_NAME,
    projectSuffix: '',
    ...(cwd ? { cwd } : {}),
    defaults: { ...DEFAULT_SETTINGS } as unknown as Record<string, unknown>,
  });
  return conf as unknown as KeyValueStore;
}

export class Settings {
  constructor(private readonly kv: KeyValueStore) {}

  static open(cwd?: string): Settings {
    return new Settings(openConfStore(cwd ?? settingsDir()));
  }

  get path(): string {
    return this.kv.path;
  }

  get(): AppSettings {
    const s = this.kv.store;
    return { ...DEFAULT_SETTINGS, ...(s as Partial<AppSettings>) };
  }

  update(patch: Partial<AppSettings>): AppSettings {
    for (const [k, v] of Object.entries(patch)) {
      if (v !== undefined) this.kv.set(k, v);
    }
    return this.get();
  }

  /** Move `dir` to the front of the recent list and remember it as the last project. */
  touchRecent(dir: string): AppSettings {
    const abs = path.resolve(dir);
    const recent = [abs, ...this.get().recentProjects.filter((d) => path.resolve(d) !== abs)].slice(0, MAX_RECENT);
    return this.update({ recentProjects: recent, lastProject: abs });
  }

  forgetRecent(dir: string): AppSettings {
    const abs = path.resolve(dir);
    const s = this.get();
    return this.update({
      recentProjects: s.recentProjects.filter((d) => path.resolve(d) !== abs),
      lastProject: s.lastProject && path.resolve(s.lastProject) === abs ? null : s.lastProject,
    });
  }
}
