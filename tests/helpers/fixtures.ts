/** Paths and readers for the golden fixtures (tests/fixtures) and the built-in suites (assets/suites). */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const fixturesDir = path.join(repoRoot, 'tests', 'fixtures');
/** The public prompt suites shipped as built-in suites (assets/suites). */
export const datasetsDir = path.join(repoRoot, 'assets', 'suites');

export function readJson<T = Record<string, unknown>>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** Raw little-endian float32 .bin from the fixtures. */
export function readBin(file: string): Float32Array {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

export function readBinInt32(file: string): Int32Array {
  const b = fs.readFileSync(file);
  return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

/** max |a − b| over entries selected by `keep(index)`. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, keep: (i: number) => boolean = () => true): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) if (keep(i)) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
