/**
 * Run folders: atomic JSON writes (fsync'd, workers/io/atomic.ts), per-step and per-batch checkpoints for
 * resume, keyed by what they were computed from, and input hashing.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { checkResultForWrite, readResultText, ResultFileError, type ResultDef } from '../../common/results/versioned.js';
import type { BatchStore } from './generate.js';
import { FILE_LIMITS, readUserJson } from '../engine/io/user-file.js';
import { atomicWriteFileSync } from '../io/atomic.js';

/** Compact JSON (typed arrays as arrays), written with the one atomic writer (temp + fsync + rename). */
export function writeJsonAtomic(file: string, value: unknown): void {
  atomicWriteFileSync(file, JSON.stringify(value, (_, v) => (v instanceof Float32Array || v instanceof Float64Array ? Array.from(v) : v)));
}

export function writeTextAtomic(file: string, text: string): void {
  atomicWriteFileSync(file, text);
}

/** A result file: validated with the schema its readers use (common/results), then written atomically. */
export function writeResultJson(def: ResultDef, file: string, value: unknown): void {
  writeJsonAtomic(file, checkResultForWrite(def, value, file));
}

/** A result file read through its versioned reader (migrated, validated); errors name the file. */
export function readResultFile<S extends z.ZodType>(def: ResultDef<S>, file: string): z.output<S> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ResultFileError(file, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return readResultText(def, text, file);
}

export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function sha256Text(s: string): string {
  return crypto.createHash('sha256').update(s).digest('hex');
}

/** sha256 of a file, read in 1 MiB chunks (a 5 GB model never sits in memory). Every byte counts. */
export function sha256FileUncached(file: string): string {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    for (let pos = 0; ; ) {
      const n = fs.readSync(fd, buf, 0, buf.length, pos);
      if (!n) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
    return h.digest('hex');
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Hashes already computed, by absolute path + size + mtime: a 5 GB model is hashed once (tens of seconds),
 * not on every run. Kept in memory for the process and, when `RW_HASH_CACHE` or `setHashCacheFile` names a
 * file, on disk across runs. A file rewritten in place keeps its path but changes its mtime (and usually
 * its size), so the cached hash is dropped; a same-size rewrite within the filesystem's mtime resolution
 * is the one case it cannot see (we accept it: tools that write weights take longer than that).
 */
const HashCacheSchema = z.record(z.string(), z.object({ size: z.number(), mtimeMs: z.number(), sha256: z.string() }));
type HashCache = z.infer<typeof HashCacheSchema>;
let hashCache: HashCache = {};
let hashCacheFile: string | undefined;

/** Keep the hash cache in this file (read now, written after every newly hashed file). */
export function setHashCacheFile(file: string | undefined): void {
  hashCacheFile = file;
  hashCache = {};
  if (!file) return;
  const p = HashCacheSchema.safeParse(readJson<unknown>(file));
  if (p.success) hashCache = p.data;
}

export function sha256File(file: string): string {
  if (hashCacheFile === undefined && process.env.RW_HASH_CACHE) setHashCacheFile(process.env.RW_HASH_CACHE);
  const abs = path.resolve(file);
  const st = fs.statSync(abs);
  const hit = hashCache[abs];
  if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit.sha256;
  const sha256 = sha256FileUncached(abs);
  hashCache[abs] = { size: st.size, mtimeMs: st.mtimeMs, sha256 };
  if (hashCacheFile) writeJsonAtomic(hashCacheFile, hashCache);
  return sha256;
}

/**
 * A run or checkpoint key: sha256 over the resolved parameters, every input file's sha256 and the step's
 * code version. Anything that can change a number is in it, so a checkpoint computed from other inputs
 * (new weights at the same path, one byte of an SAE, a code fix that bumped codeVersion) is never reused.
 */
export function runKey(parts: { step: string; codeVersion: number; params: unknown; inputs: ReadonlyArray<{ path: string; sha256: string }> }): string {
  const inputs = [...parts.inputs].map((i) => `${i.path}\0${i.sha256}`).sort();
  return sha256Text(JSON.stringify({ step: parts.step, codeVersion: parts.codeVersion, params: parts.params, inputs }));
}

export const CHECKPOINT_KIND = 'refusal-workbench/checkpoint';
export const CHECKPOINT_SCHEMA_VERSION = 1;
const CheckpointSchema = z.object({ kind: z.literal(CHECKPOINT_KIND), schemaVersion: z.literal(CHECKPOINT_SCHEMA_VERSION), key: z.string(), value: z.unknown() });

/** Every regular file under a path (a file or a folder). */
export function listFiles(p: string): string[] {
  if (!fs.existsSync(p)) return [];
  if (fs.statSync(p).isFile()) return [p];
  return fs
    .readdirSync(p)
    .sort()
    .flatMap((n) => listFiles(path.join(p, n)));
}

/** A step file's value: a keyed checkpoint's `value`, or the file itself (written before checkpoints had keys). */
export function checkpointValue(raw: unknown): unknown {
  const p = CheckpointSchema.safeParse(raw);
  return p.success ? p.data.value : raw;
}

export class RunDir {
  /**
   * `key`: the run key (runKey) every checkpoint in this folder is written with and checked against; a
   * checkpoint with another key (or none: written before keys existed) is recomputed, never reused.
   */
  constructor(
    readonly dir: string,
    readonly key: string = '',
  ) {
    fs.mkdirSync(path.join(dir, 'steps'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'batches'), { recursive: true });
  }

  file(name: string): string {
    return path.join(this.dir, name);
  }

  write(name: string, value: unknown): void {
    writeJsonAtomic(this.file(name), value);
  }

  /** A checkpoint's value when it was computed under this folder's key, else undefined (recompute). */
  private readCheckpoint(file: string): { value: unknown } | undefined {
    const p = CheckpointSchema.safeParse(readJson<unknown>(file));
    return p.success && p.data.key === this.key ? { value: p.data.value } : undefined;
  }

  private writeCheckpoint(file: string, value: unknown): void {
    writeJsonAtomic(file, { kind: CHECKPOINT_KIND, schemaVersion: CHECKPOINT_SCHEMA_VERSION, key: this.key, value });
  }

  /** A step's result, computed once per key: read back on resume when its key matches the run's. */
  async step<T>(name: string, fn: () => Promise<T>, revive?: (raw: unknown) => T): Promise<{ value: T; resumed: boolean }> {
    const f = path.join(this.dir, 'steps', `${name}.json`);
    const got = this.readCheckpoint(f);
    if (got !== undefined) return { value: revive ? revive(got.value) : (got.value as T), resumed: true };
    const value = await fn();
    this.writeCheckpoint(f, value);
    return { value, resumed: false };
  }

  /** The raw value of a finished step (readers such as the feature views), or undefined. */
  stepValue(name: string): unknown {
    return this.readCheckpoint(path.join(this.dir, 'steps', `${name}.json`))?.value;
  }

  batchStore<T>(): BatchStore<T> {
    return {
      get: (key) => this.readCheckpoint(path.join(this.dir, 'batches', `${key}.json`))?.value as T | undefined,
      put: (key, value) => this.writeCheckpoint(path.join(this.dir, 'batches', `${key}.json`), value),
    };
  }
}

/** Read a JSON file and validate it; errors name the file and the first problem (what = "a pipeline file"). */
export function readJsonFile<T>(file: string, schema: { safeParse(raw: unknown): { success: true; data: T } | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } } }, what: string): T {
  const raw = readUserJson(file, { maxBytes: FILE_LIMITS.pipeline, what });
  const p = schema.safeParse(raw);
  if (!p.success) {
    const i = p.error.issues[0];
    throw new Error(`${file}: not ${what}: ${i?.path.map(String).join('.')}: ${i?.message}`);
  }
  return p.data;
}
