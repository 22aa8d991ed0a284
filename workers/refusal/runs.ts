/** Run folders: atomic JSON writes, per-step and per-batch checkpoints for resume, input hashing. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { checkResultForWrite, readResultText, ResultFileError, type ResultDef } from '../../common/results/versioned.js';
import type { BatchStore } from './generate.js';
import { FILE_LIMITS, readUserJson } from '../engine/io/user-file.js';

export function writeJsonAtomic(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, (_, v) => (v instanceof Float32Array || v instanceof Float64Array ? Array.from(v) : v)));
  fs.renameSync(tmp, file);
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

/** sha256 of a file (streamed); files above `maxBytes` hash their first and last MiB plus the size. */
export function sha256File(file: string, maxBytes = 4 * 1024 ** 3): string {
  const st = fs.statSync(file);
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    if (st.size <= maxBytes) {
      let pos = 0;
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, pos);
        if (!n) break;
        h.update(buf.subarray(0, n));
        pos += n;
      }
      return h.digest('hex');
    }
    h.update(`size:${st.size}`);
    h.update(buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0)));
    h.update(buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, st.size - buf.length)));
    return `partial:${h.digest('hex')}`;
  } finally {
    fs.closeSync(fd);
  }
}

/** Every regular file under a path (a file or a folder). */
export function listFiles(p: string): string[] {
  if (!fs.existsSync(p)) return [];
  if (fs.statSync(p).isFile()) return [p];
  return fs
    .readdirSync(p)
    .sort()
    .flatMap((n) => listFiles(path.join(p, n)));
}

export class RunDir {
  constructor(readonly dir: string) {
    fs.mkdirSync(path.join(dir, 'steps'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'batches'), { recursive: true });
  }

  file(name: string): string {
    return path.join(this.dir, name);
  }

  write(name: string, value: unknown): void {
    writeJsonAtomic(this.file(name), value);
  }

  /** A step's result, computed once: read back on resume. */
  async step<T>(name: string, fn: () => Promise<T>, revive?: (raw: unknown) => T): Promise<{ value: T; resumed: boolean }> {
    const f = path.join(this.dir, 'steps', `${name}.json`);
    const got = readJson<unknown>(f);
    if (got !== undefined) return { value: revive ? revive(got) : (got as T), resumed: true };
    const value = await fn();
    writeJsonAtomic(f, value);
    return { value, resumed: false };
  }

  batchStore<T>(): BatchStore<T> {
    return {
      get: (key) => readJson<T>(path.join(this.dir, 'batches', `${key}.json`)),
      put: (key, value) => writeJsonAtomic(path.join(this.dir, 'batches', `${key}.json`), value),
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
