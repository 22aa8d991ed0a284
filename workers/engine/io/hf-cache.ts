/**
 * The Hugging Face hub cache as huggingface_hub lays it out (file_download.py):
 *   $HF_HUB_CACHE (default $HF_HOME/hub, $HF_HOME default $XDG_CACHE_HOME/huggingface or ~/.cache/huggingface)
 *     models--{org}--{name}/
 *       refs/main              the commit hash a revision points at
 *       snapshots/{commit}/…   the repo's files, each a relative symlink into ../../blobs/
 *       blobs/{etag}           file contents; `{etag}.incomplete` while a download runs
 * `resolveHfPath` turns a repo root, a snapshot folder or anything below one into the folder to read, and
 * refuses an incomplete download (dangling symlink, missing shard, `.incomplete` blob) naming the file.
 * Paths outside the cache pass through unchanged.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileFormatError } from '../errors.js';

export type HfRepoType = 'model' | 'dataset' | 'space';

/** The hub cache folder, from the same environment variables huggingface_hub reads. */
export function hfHubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HUGGINGFACE_HUB_CACHE) return env.HUGGINGFACE_HUB_CACHE;
  const home = env.HF_HOME ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'huggingface');
  return path.join(home, 'hub');
}

/** "google/gemma-scope-2b-pt-res" → "models--google--gemma-scope-2b-pt-res". */
export function hfRepoFolderName(repoId: string, type: HfRepoType = 'model'): string {
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(repoId)) throw new Error(`"${repoId}" is not a Hugging Face repo id`);
  return `${type}s--${repoId.split('/').join('--')}`;
}

/** "models--google--gemma-2-2b-it" → "google/gemma-2-2b-it" (null for other names). */
export function hfRepoIdOf(folderName: string): string | null {
  const m = /^(?:models|datasets|spaces)--(.+)$/.exec(folderName);
  return m ? m[1]!.split('--').join('/') : null;
}

export interface HfLocation {
  /** The folder (or file) to read: a snapshot folder, or the path itself outside the cache. */
  path: string;
  /** The models--org--name folder, when the path is inside the cache. */
  repoRoot: string | null;
  repoId: string | null;
  /** The snapshot commit, when inside the cache. */
  commit: string | null;
  /** Path below the snapshot folder ('' for the snapshot itself). */
  subpath: string;
  notes: string[];
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isRepoRoot(p: string): boolean {
  return /^(models|datasets|spaces)--/.test(path.basename(p)) && (isDir(path.join(p, 'snapshots')) || isDir(path.join(p, 'refs')));
}

/** Blobs still downloading under a repo root (`blobs/*.incomplete`). */
export function incompleteBlobs(repoRoot: string): string[] {
  const dir = path.join(repoRoot, 'blobs');
  if (!isDir(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.incomplete'))
    .map((n) => path.join(dir, n));
}

function incompleteHint(repoRoot: string | null): string {
  if (!repoRoot) return '';
  const inc = incompleteBlobs(repoRoot);
  return inc.length ? `; download still incomplete: ${inc.map((f) => `${path.relative(repoRoot, f)} (${fs.statSync(f).size} bytes)`).join(', ')}` : '';
}

/** The snapshot commit a repo root's ref points at (refs/{revision}), or its only snapshot. */
function snapshotOf(repoRoot: string, revision: string, notes: string[]): string {
  const ref = path.join(repoRoot, 'refs', revision);
  const snaps = path.join(repoRoot, 'snapshots');
  if (fs.existsSync(ref)) {
    const commit = fs.readFileSync(ref, 'utf8').trim();
    if (!/^[0-9a-f]{7,64}$/i.test(commit)) throw new FileFormatError(ref, `does not hold a commit hash (got "${commit.slice(0, 80)}")`);
    if (!isDir(path.join(snaps, commit))) {
      throw new FileFormatError(path.join(snaps, commit), `refs/${revision} points at ${commit} but that snapshot folder is missing (incomplete download)${incompleteHint(repoRoot)}`);
    }
    return commit;
  }
  if (/^[0-9a-f]{40}$/i.test(revision) && isDir(path.join(snaps, revision))) return revision;
  const have = isDir(snaps) ? fs.readdirSync(snaps).filter((n) => isDir(path.join(snaps, n))) : [];
  if (have.length === 1) {
    notes.push(`no refs/${revision}: using the only snapshot ${have[0]}`);
    return have[0]!;
  }
  throw new FileFormatError(ref, have.length ? `missing, and several snapshots (${have.join(', ')}): pass the snapshot folder` : `missing and no snapshots: nothing downloaded yet${incompleteHint(repoRoot)}`);
}

/**
 * Where to read `p`: a repo root → snapshots/{refs/main}; a snapshot folder or a path inside one → itself;
 * `sub` (optional) is joined below the snapshot. Everything under the result that is a symlink must point
 * at an existing blob (checked for the entries named in `require`, and for every symlink in the folder).
 */
export function resolveHfPath(p: string, opts: { revision?: string; sub?: string; require?: string[] } = {}): HfLocation {
  const notes: string[] = [];
  const abs = path.resolve(p);
  // Walk up to find models--org--name/snapshots/<commit>.
  let repoRoot: string | null = null;
  let commit: string | null = null;
  let subpath = '';
  if (isRepoRoot(abs)) {
    repoRoot = abs;
    commit = snapshotOf(abs, opts.revision ?? 'main', notes);
  } else {
    const parts = abs.split(path.sep);
    for (let i = parts.length - 2; i >= 1; i--) {
      if (parts[i] === 'snapshots' && /^(models|datasets|spaces)--/.test(parts[i - 1] ?? '')) {
        repoRoot = parts.slice(0, i).join(path.sep) || path.sep;
        commit = parts[i + 1] ?? null;
        subpath = parts.slice(i + 2).join('/');
        break;
      }
    }
  }
  if (!repoRoot || !commit) {
    const out = opts.sub ? path.join(abs, opts.sub) : abs;
    return { path: out, repoRoot: null, repoId: null, commit: null, subpath: '', notes };
  }
  if (opts.sub) subpath = subpath ? `${subpath}/${opts.sub}` : opts.sub;
  const snapDir = path.join(repoRoot, 'snapshots', commit);
  const target = subpath ? path.join(snapDir, ...subpath.split('/')) : snapDir;
  const loc: HfLocation = { path: target, repoRoot, repoId: hfRepoIdOf(path.basename(repoRoot)), commit, subpath, notes };
  checkSnapshotFiles(loc, opts.require ?? []);
  return loc;
}

/** A symlink in a snapshot must land on an existing blob; the required entries must exist. */
function checkSnapshotFiles(loc: HfLocation, required: string[]): void {
  const check = (file: string): boolean => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(file);
    } catch {
      return false;
    }
    if (st.isSymbolicLink()) {
      const blob = path.resolve(path.dirname(file), fs.readlinkSync(file));
      if (!fs.existsSync(blob)) {
        throw new FileFormatError(file, `symlink to blob ${path.relative(loc.repoRoot!, blob)} which is missing (incomplete or interrupted download)${incompleteHint(loc.repoRoot)}`);
      }
    }
    return true;
  };
  const base = isDir(loc.path) ? loc.path : path.dirname(loc.path);
  if (!fs.existsSync(loc.path) && !safeLstat(loc.path)) {
    throw new FileFormatError(loc.path, `not in snapshot ${loc.commit} of ${loc.repoId ?? loc.repoRoot} (not downloaded)${incompleteHint(loc.repoRoot)}`);
  }
  check(loc.path);
  if (isDir(loc.path)) for (const n of fs.readdirSync(loc.path)) check(path.join(loc.path, n));
  for (const r of required) {
    const f = path.join(base, r);
    if (!check(f)) throw new FileFormatError(f, `missing from snapshot ${loc.commit} of ${loc.repoId ?? loc.repoRoot} (not downloaded)${incompleteHint(loc.repoRoot)}`);
  }
}

function safeLstat(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch {
    return null;
  }
}

/**
 * A model folder from the cache (repo root or snapshot) or anywhere else: also checks every shard a
 * `model.safetensors.index.json` names, so a half-downloaded model fails naming the missing shard.
 */
export function resolveModelDir(dir: string): string {
  const loc = resolveHfPath(dir);
  const index = path.join(loc.path, 'model.safetensors.index.json');
  if (loc.repoRoot && fs.existsSync(index)) {
    let shards: string[] = [];
    try {
      const j = JSON.parse(fs.readFileSync(index, 'utf8')) as { weight_map?: Record<string, string> };
      shards = [...new Set(Object.values(j.weight_map ?? {}))];
    } catch {
      return loc.path; // the loader reports a bad index itself
    }
    for (const s of shards) {
      const f = path.join(loc.path, s);
      if (!safeLstat(f)) throw new FileFormatError(f, `shard named in model.safetensors.index.json is missing from snapshot ${loc.commit} (not downloaded)${incompleteHint(loc.repoRoot)}`);
    }
  }
  return loc.path;
}
