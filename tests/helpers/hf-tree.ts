/**
 * A synthetic Hugging Face hub cache, laid out as huggingface_hub writes it: models--org--name/
 * refs/main (commit), snapshots/<commit>/<file> → relative symlinks into blobs/<sha256>.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeNpz } from '../../workers/engine/io/npy.js';
import { fixturesDir } from './fixtures.js';

export const COMMIT = 'a'.repeat(8) + '0123456789abcdef0123456789abcdef';

/** Add a repo with these files (relative path → contents) to a cache folder; returns the repo root. */
export function addRepo(cache: string, repoId: string, files: Record<string, Buffer>, commit = COMMIT): string {
  const root = path.join(cache, `models--${repoId.replace('/', '--')}`);
  fs.mkdirSync(path.join(root, 'refs'), { recursive: true });
  fs.mkdirSync(path.join(root, 'blobs'), { recursive: true });
  fs.writeFileSync(path.join(root, 'refs', 'main'), commit);
  for (const [rel, data] of Object.entries(files)) {
    const sha = crypto.createHash('sha256').update(data).digest('hex');
    const blob = path.join(root, 'blobs', sha);
    fs.writeFileSync(blob, data);
    const link = path.join(root, 'snapshots', commit, ...rel.split('/'));
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.relative(path.dirname(link), blob), link);
  }
  return root;
}

/** The gemma2-tiny fixture model as a cached repo. */
export function addTinyModel(cache: string, repoId: string): string {
  const src = path.join(fixturesDir, 'gemma2-tiny');
  const files: Record<string, Buffer> = {};
  for (const n of ['config.json', 'model.safetensors']) files[n] = fs.readFileSync(path.join(src, n));
  return addRepo(cache, repoId, files);
}

function rand(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

/** A small Gemma Scope params.npz (d_in of the release, few features) as bytes. */
export function gemmaScopeNpz(tmp: string, dIn: number, dSae: number, seed: number): Buffer {
  const f = path.join(tmp, `p-${seed}.npz`);
  writeNpz(f, {
    W_enc: { shape: [dIn, dSae], data: rand(dIn * dSae, seed, 0.1) },
    W_dec: { shape: [dSae, dIn], data: rand(dIn * dSae, seed + 1, 0.1) },
    b_enc: { shape: [dSae], data: rand(dSae, seed + 2, 0.1) },
    b_dec: { shape: [dIn], data: rand(dIn, seed + 3, 0.1) },
    threshold: { shape: [dSae], data: rand(dSae, seed + 4, 0.1).map(Math.abs) },
  });
  const b = fs.readFileSync(f);
  fs.rmSync(f);
  return b;
}
