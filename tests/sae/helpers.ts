import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export { fixturesDir as FIX } from '../helpers/fixtures.js';

export function readBin(dir: string, name: string): { shape: number[]; data: Float32Array | Int32Array } {
  const exp = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as {
    arrays: Record<string, { file: string; dtype: string; shape: number[] }>;
  };
  const a = exp.arrays[name]!;
  const buf = fs.readFileSync(path.join(dir, a.file));
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  return { shape: a.shape, data: a.dtype === 'int32' ? new Int32Array(ab) : new Float32Array(ab) };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Active feature sets per row, as sorted index lists. */
export function activeSets(f: ArrayLike<number>, rows: number, w: number): number[][] {
  const out: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const s: number[] = [];
    for (let i = 0; i < w; i++) if (f[r * w + i]! !== 0) s.push(i);
    out.push(s);
  }
  return out;
}

/** A fresh temp folder (the system's temp dir: tests write nothing outside it and the repository). */
export function tmpDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `rw-sae-${tag}-`));
}
