import { describe, expect, it, afterEach } from 'vitest';
import { promises as fsp, readFileSync, existsSync, symlinkSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Project } from '../../main/projects/store.js';
import { CorruptFileError, NotAProjectError, PathOutsideProjectError, UnsupportedVersionError } from '../../main/projects/errors.js';
import { atomicWriteJson } from '../../main/projects/atomic.js';
import { ensureDemoProject } from '../../main/projects/demo.js';
import { Settings } from '../../main/settings/settings.js';
import { PROJECT_SCHEMA_VERSION } from '../../common/schemas/project.js';
import { FEATURES_SCHEMA_VERSION } from '../../common/schemas/features.js';
import { fixture, tempDir } from './helpers.js';

const cleanups: (() => void)[] = [];
function tmp() {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

describe('project folder', () => {
  it('creates the layout, reopens, renames and keeps feature notes', async () => {
    const dir = path.join(tmp(), 'study');
    const p = await Project.create(dir, 'Study');
    for (const f of ['project.json', 'features.json', 'runs', 'exports']) expect(existsSync(path.join(dir, f))).toBe(true);
    const pj = JSON.parse(readFileSync(path.join(dir, 'project.json'), 'utf8'));
    expect(pj).toMatchObject({ kind: 'refusal-workbench/project', schemaVersion: PROJECT_SCHEMA_VERSION, name: 'Study' });
    await p.updateFeature('L15/30001', { label: 'refusal', tags: ['refusal'] });
    await p.rename('Study 2');
    await expect(Project.create(dir, 'again')).rejects.toThrow(/already exists/);

    const q = await Project.open(dir);
    expect(q.name).toBe('Study 2');
    expect(q.listFeatures()['L15/30001']).toMatchObject({ label: 'refusal', notes: '', tags: ['refusal'] });
    expect(q.warnings).toEqual([]);
    expect(() => q.updateFeature('15/30001', {})).toThrow();
  });

  it('serialises concurrent edits (no lost update)', async () => {
    const p = await Project.create(tmp(), 'c');
    await Promise.all(Array.from({ length: 40 }, (_, i) => p.updateFeature(`L1/${i}`, { label: `f${i}` })));
    const q = await Project.open(p.dir);
    expect(Object.keys(q.listFeatures())).toHaveLength(40);
  });

  it('refuses to open a folder that is not a project, naming it', async () => {
    const dir = tmp();
    await expect(Project.open(dir)).rejects.toBeInstanceOf(NotAProjectError);
    await expect(Project.open(path.join(dir, 'nope'))).rejects.toThrow(dir);
  });
});

describe('migrations (frozen v1 files)', () => {
  it('upgrades project.json and features.json v1, keeping the old file as .bak', async () => {
    const dir = path.join(tmp(), 'old');
    await fsp.cp(fixture('v1-project'), dir, { recursive: true });
    const p = await Project.open(dir);
    const info = p.info();
    expect(info.name).toBe('Gemma refusal study (v1 prototype)');
    expect(info.project.schemaVersion).toBe(PROJECT_SCHEMA_VERSION);
    expect(info.project.createdAt).toBe('2026-10-01T09:30:00.000Z');
    expect(info.project.sources).toEqual([
      { type: 'model', path: '/models/gemma-2-2b-it' },
      { type: 'sae', path: '/saes/gemma-scope-2b-pt-res/layer_12' },
      { type: 'sae', path: '/saes/gemma-scope-2b-pt-res/layer_15' },
    ]);
    expect(info.project.settings.backend).toBe('wasm');
    expect(p.listFeatures()).toEqual({
      'L12/4021': { label: 'harmful request', notes: '', tags: [] },
      'L15/30001': { label: 'refusal phrasing', notes: "fires on 'I cannot'", tags: [] },
      'L3/7': { label: '', notes: 'only a note', tags: [] },
    });
    expect(info.warnings.map((w) => w.message)).toEqual([
      `upgraded from schemaVersion 1 to ${PROJECT_SCHEMA_VERSION}`,
      `upgraded from schemaVersion 1 to ${FEATURES_SCHEMA_VERSION}`,
    ]);
    // Upgraded on disk; the frozen original kept next to it, byte for byte.
    expect(JSON.parse(readFileSync(path.join(dir, 'project.json'), 'utf8')).schemaVersion).toBe(PROJECT_SCHEMA_VERSION);
    expect(readFileSync(path.join(dir, 'project.json.bak'), 'utf8')).toBe(readFileSync(fixture('v1-project/project.json'), 'utf8'));
    // And a second open has nothing to migrate.
    expect((await Project.open(dir)).warnings).toEqual([]);
  });

  it('refuses files from a newer app, naming the file', async () => {
    const dir = tmp();
    await Project.create(dir, 'x');
    const f = path.join(dir, 'project.json');
    const j = JSON.parse(readFileSync(f, 'utf8'));
    writeFileSync(f, JSON.stringify({ ...j, schemaVersion: 99 }));
    const err = await Project.open(dir).catch((e) => e);
    expect(err).toBeInstanceOf(UnsupportedVersionError);
    expect(err.message).toContain(f);
  });
});

describe('corrupt files', () => {
  it('reports the corrupt file, keeps it, and restores the last good copy', async () => {
    const dir = tmp();
    const p = await Project.create(dir, 'x');
    await p.updateFeature('L1/1', { label: 'first' });
    await p.updateFeature('L1/2', { label: 'second' });
    const f = path.join(dir, 'features.json');
    writeFileSync(f, '{"kind": "refusal-workbench/features", "schemaVersion": 2, "features": {"L1/1": {"lab');
    const q = await Project.open(dir);
    expect(q.warnings).toHaveLength(1);
    const w = q.warnings[0]!;
    expect(w.path).toBe(f);
    expect(w.message).toMatch(/not valid JSON/);
    expect(w.recoveredFrom).toBe(`${f}.bak`);
    expect(readFileSync(w.keptAs!, 'utf8')).toContain('"lab');
    // The last good copy is the state before the latest save.
    expect(q.listFeatures()['L1/1']?.label).toBe('first');
    expect(JSON.parse(readFileSync(f, 'utf8')).features['L1/1'].label).toBe('first');
  });

  it('fails with the path when there is no good copy', async () => {
    const dir = tmp();
    await Project.create(dir, 'x');
    const f = path.join(dir, 'project.json');
    writeFileSync(f, JSON.stringify({ kind: 'refusal-workbench/project', schemaVersion: 2, name: 42 }));
    const err = await Project.open(dir).catch((e) => e);
    expect(err).toBeInstanceOf(CorruptFileError);
    expect(err.path).toBe(f);
    expect(err.message).toContain('name');
    expect(existsSync(f)).toBe(true); // never deleted
  });

  it('writes atomically: temp files from a crash are cleaned, the target is never torn', async () => {
    const dir = tmp();
    const f = path.join(dir, 'a.json');
    await atomicWriteJson(f, { v: 1 });
    writeFileSync(path.join(dir, '.a.json.123.abcdefabcdef.tmp'), '{"v": 2'); // left by a killed writer
    await atomicWriteJson(f, { v: 3 }, { backup: true });
    expect(JSON.parse(readFileSync(f, 'utf8'))).toEqual({ v: 3 });
    expect(JSON.parse(readFileSync(`${f}.bak`, 'utf8'))).toEqual({ v: 1 });
  });
});

describe('paths outside the project are refused', () => {
  it('relative escapes, absolute paths and symlinks', async () => {
    const root = tmp();
    const dir = path.join(root, 'proj');
    const p = await Project.create(dir, 'x');
    mkdirSync(path.join(root, 'secret'));
    writeFileSync(path.join(root, 'secret', 'key.txt'), 'secret');
    symlinkSync(path.join(root, 'secret'), path.join(dir, 'link'));
    for (const bad of ['../secret/key.txt', '/etc/passwd', path.join(root, 'secret', 'key.txt'), 'link/key.txt', 'exports/../../secret/key.txt', '']) {
      expect(() => p.resolve(bad), bad).toThrow(PathOutsideProjectError);
    }
    await expect(p.readText('../secret/key.txt')).rejects.toBeInstanceOf(PathOutsideProjectError);
    await expect(p.writeText('link/new.txt', 'x')).rejects.toBeInstanceOf(PathOutsideProjectError);
    await expect(p.listFiles('..')).rejects.toBeInstanceOf(PathOutsideProjectError);
    expect(existsSync(path.join(root, 'secret', 'new.txt'))).toBe(false);
    // Inside is fine, including absolute paths inside.
    expect(await p.writeText('exports/table.csv', 'a,b\n')).toBe('exports/table.csv');
    expect(await p.readText(path.join(dir, 'exports', 'table.csv'))).toBe('a,b\n');
    await expect(p.writeText('project.json', '{}')).rejects.toThrow(/project API/);
  });
});

describe('demo project and settings', () => {
  it('creates an empty "demo" project when assets/demo is empty, or copies the assets as a demo source', async () => {
    const root = tmp();
    const empty = path.join(root, 'assets-empty');
    mkdirSync(empty);
    const a = await ensureDemoProject(path.join(root, 'demo-a'), empty);
    expect(a.name).toBe('demo');
    expect(a.info().project.sources).toEqual([]);

    const assets = path.join(root, 'assets');
    mkdirSync(path.join(assets, 'model'), { recursive: true });
    writeFileSync(path.join(assets, 'model', 'config.json'), '{}');
    const b = await ensureDemoProject(path.join(root, 'demo-b'), assets);
    expect(b.info().project.sources).toEqual([{ type: 'demo', path: 'sources/demo', label: 'bundled demo' }]);
    expect(existsSync(path.join(b.dir, 'sources/demo/model/config.json'))).toBe(true);
    // Second call opens what is there.
    expect((await ensureDemoProject(path.join(root, 'demo-b'), assets)).dir).toBe(b.dir);
  });

  it('settings: recent list, most recent first, shared file', () => {
    const dir = tmp();
    const s = Settings.open(dir);
    s.touchRecent('/a');
    s.touchRecent('/b');
    s.touchRecent('/a');
    expect(s.get().recentProjects).toEqual(['/a', '/b']);
    expect(s.get().lastProject).toBe('/a');
    // Another process (CLI, server) sees the same file.
    expect(Settings.open(dir).get().recentProjects).toEqual(['/a', '/b']);
    expect(s.path.startsWith(dir)).toBe(true);
    s.forgetRecent('/a');
    expect(Settings.open(dir).get()).toMatchObject({ recentProjects: ['/b'], lastProject: null });
  });
});
