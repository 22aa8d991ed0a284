/**
 * The one atomic writer (project files, run folders, checkpoints). Atomic file writes: temp file in the same folder + fsync + rename + fsync of the folder.
 * A reader (or a crash at any instant, SIGKILL included) sees either the old or the new content,
 * never a torn file. With `backup: true` the previous content is first copied to `<file>.bak`
 * (itself written atomically), the "last good copy" used to recover from external damage.
 */
import { promises as fsp, constants as fsc } from 'node:fs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

export interface AtomicWriteOptions {
  /** Keep the previous version as `<file>.bak` before replacing it. */
  backup?: boolean;
  /** fsync file and folder (default true; tests of throughput may turn it off). */
  fsync?: boolean;
}

export function backupPath(file: string): string {
  return `${file}.bak`;
}

async function fsyncDir(dir: string): Promise<void> {
  // Not all platforms allow opening a directory (Windows); durability of the rename is best effort there.
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, fsc.O_RDONLY);
    await fh.sync();
  } catch {
    /* ignore */
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

async function writeTempAndRename(file: string, data: string | Uint8Array, doSync: boolean): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await fsp.open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(data);
    if (doSync) await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  if (doSync) await fsyncDir(dir);
}

export async function atomicWriteFile(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const doSync = opts.fsync !== false;
  if (opts.backup) {
    let previous: Buffer | null = null;
    try {
      previous = await fsp.readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (previous) await writeTempAndRename(backupPath(file), previous, doSync);
  }
  await writeTempAndRename(file, data, doSync);
}

export async function atomicWriteJson(file: string, value: unknown, opts: AtomicWriteOptions = {}): Promise<void> {
  await atomicWriteFile(file, JSON.stringify(value, null, 2) + '\n', opts);
}

/** Remove temp files left behind by a crash in the middle of a write. */
export async function cleanStaleTemps(dir: string): Promise<void> {
  let names: string[] = [];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return;
  }
  const mine = /^\..+\.\d+\.[0-9a-f]{12}\.tmp$/;
  await Promise.all(
    names.filter((n) => mine.test(n)).map((n) => fsp.rm(path.join(dir, n), { force: true }).catch(() => undefined)),
  );
}

export function existsSync(p: string): boolean {
  return fs.existsSync(p);
}

function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, fs.constants.O_RDONLY);
    fs.fsyncSync(fd);
  } catch {
    /* not supported (Windows): best effort, as above */
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Synchronous variant (run folders, checkpoints, manifests written from event handlers): the same temp
 * file + fsync + rename + folder fsync; creates the folder when missing.
 */
export function atomicWriteFileSync(file: string, data: string | Uint8Array, opts: { fsync?: boolean } = {}): void {
  const doSync = opts.fsync !== false;
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    fs.writeFileSync(fd, data);
    if (doSync) fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  if (doSync) fsyncDirSync(dir);
}

export function atomicWriteJsonSync(file: string, value: unknown): void {
  atomicWriteFileSync(file, JSON.stringify(value, null, 2) + '\n');
}
