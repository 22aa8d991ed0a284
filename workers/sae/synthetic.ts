/**
 * Random Gemma Scope–format SAEs on disk, for benchmarks and tests (issue 10's synthetic discovery run):
 * a `gemma-scope-*` tree of `layer_{l}/width_{w}/average_l0_{k}/params.npz` files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeNpz } from '../engine/io/npy.js';

export interface SyntheticSaeOptions {
  dIn: number;
  dSae: number;
  seed?: number;
  /** Decoder rows are unit-norm; encoder = decoderᵀ·encScale (default 1). */
  encScale?: number;
  /** JumpReLU threshold for every feature (default 0.05). */
  threshold?: number;
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    // xorshift32 → Box–Muller
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

export function syntheticGemmaScopeArrays(o: SyntheticSaeOptions): Record<string, { shape: number[]; data: Float32Array }> {
  const { dIn, dSae } = o;
  const u = rng(o.seed ?? 1);
  const gauss = () => Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
  const W_dec = new Float32Array(dSae * dIn);
  for (let i = 0; i < dSae; i++) {
    let n = 0;
    for (let j = 0; j < dIn; j++) {
      const v = gauss();
      W_dec[i * dIn + j] = v;
      n += v * v;
    }
    const inv = 1 / Math.sqrt(n);
    for (let j = 0; j < dIn; j++) W_dec[i * dIn + j] = W_dec[i * dIn + j]! * inv;
  }
  const s = o.encScale ?? 1;
  const W_enc = new Float32Array(dIn * dSae);
  for (let i = 0; i < dSae; i++) for (let j = 0; j < dIn; j++) W_enc[j * dSae + i] = W_dec[i * dIn + j]! * s;
  const theta = o.threshold ?? 0.05;
  return {
    W_enc: { shape: [dIn, dSae], data: W_enc },
    W_dec: { shape: [dSae, dIn], data: W_dec },
    b_enc: { shape: [dSae], data: new Float32Array(dSae) },
    b_dec: { shape: [dIn], data: new Float32Array(dIn) },
    threshold: { shape: [dSae], data: new Float32Array(dSae).fill(theta) },
  };
}

/** Write a tree with one SAE per layer; returns the params.npz paths by layer. */
export function writeSyntheticGemmaScopeTree(
  root: string,
  o: SyntheticSaeOptions & { layers: number[]; widthName?: string; averageL0?: number },
): Map<number, string> {
  const out = new Map<number, string>();
  for (const l of o.layers) {
    const dir = path.join(root, `layer_${l}`, `width_${o.widthName ?? `${Math.round(o.dSae / 1024)}k`}`, `average_l0_${o.averageL0 ?? 100}`);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'params.npz');
    writeNpz(file, syntheticGemmaScopeArrays({ ...o, seed: (o.seed ?? 1) * 1000 + l }));
    out.set(l, file);
  }
  return out;
}
