import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../workers/engine/backend.js';
import type { HookContext } from '../../workers/model/types.js';
import { loadSae } from '../../workers/sae/load.js';
import { TfSae, sliceSae } from '../../workers/sae/sae.js';
import { clampHook, editedFeatures, spliceHook, type SpliceOptions } from '../../workers/sae/splice.js';
import type { Sae } from '../../workers/sae/types.js';
import { FIX, maxAbsDiff, readBin } from './helpers.js';

let gemma: Sae;
let llama: Sae;
let x: tf.Tensor3D; // [3, 8, 64] from the fixture's real residuals (left-padded style batch)
const B = 3;
const T = 8;

function ctxFor(point: string, t: number, over: Partial<HookContext> = {}): HookContext {
  return {
    point,
    layer: 2,
    offset: 0,
    promptLength: t,
    step: -1,
    attentionMask: tf.ones([B, t]) as tf.Tensor2D,
    ...over,
  };
}

function run(sae: Sae, o: SpliceOptions, act: tf.Tensor3D, ctx: HookContext): tf.Tensor3D {
  const out = spliceHook(sae, o)(act, ctx);
  return (out ?? act) as tf.Tensor3D;
}

beforeAll(async () => {
  await initBackend();
  gemma = await loadSae(`${FIX}/sae-gemmascope/params.npz`, { layer: 2 });
  llama = await loadSae(`${FIX}/sae-saelens/raw_llamascope/L1R-8x`);
  const xin = readBin(`${FIX}/sae-gemmascope`, 'sae_in').data as Float32Array;
  x = tf.tensor3d(xin.slice(0, B * T * 64), [B, T, 64]);
});

afterAll(() => {
  gemma.dispose();
  llama.dispose();
});

/** Expected z + (f' − f)·W_dec computed directly from the features. */
function expectedEdit(sae: Sae, act: tf.Tensor3D, fPrime: (f: Float32Array) => Float32Array): Float32Array {
  const f = sae.encode(act);
  const fd = f.dataSync() as Float32Array;
  const fp = fPrime(fd.slice());
  const diff = tf.tensor2d(fp.map((v, i) => v - fd[i]!), [act.shape[0] * act.shape[1], sae.meta.dSae]);
  const out = tf.add(tf.reshape(act, [-1, sae.meta.dIn]), tf.matMul(diff, sae.W_dec));
  return out.dataSync() as Float32Array;
}

/** Some features active somewhere in x. */
function activeFeatures(sae: Sae, n: number): number[] {
  const f = sae.encode(x).dataSync();
  const w = sae.meta.dSae;
  const counts = new Array<number>(w).fill(0);
  for (let i = 0; i < f.length; i++) if (f[i]! > 0) counts[i % w]!++;
  return counts.map((c, i) => [c, i] as const).sort((a, b) => b[0] - a[0]).slice(0, n).map(([, i]) => i);
}

describe('literal splice', () => {
  it('is the identity without edits (≤ 1e-5), for both SAEs', () => {
    for (const sae of [gemma, llama]) {
      const out = run(sae, {}, x, ctxFor(sae.meta.hookPoint, T));
      expect(maxAbsDiff(out.dataSync(), x.dataSync())).toBeLessThanOrEqual(1e-5);
    }
  });

  it('an edit changes the stream by exactly (f′ − f)·W_dec', () => {
    for (const sae of [gemma, llama]) {
      const [a, b, c] = activeFeatures(sae, 3);
      const w = sae.meta.dSae;
      const o: SpliceOptions = {
        edits: [
          { features: [a!, b!], op: 'multiply', value: [-3, 0] },
          { features: [c!], op: 'set', value: 5 },
        ],
      };
      const out = run(sae, o, x, ctxFor(sae.meta.hookPoint, T));
      const want = expectedEdit(sae, x, (f) => {
        for (let r = 0; r < f.length / w; r++) {
          f[r * w + a!] = -3 * f[r * w + a!]!;
          f[r * w + b!] = 0;
          f[r * w + c!] = 5;
        }
        return f;
      });
      expect(maxAbsDiff(out.dataSync(), want)).toBeLessThanOrEqual(1e-5);
      // and it did change something
      expect(maxAbsDiff(out.dataSync(), x.dataSync())).toBeGreaterThan(0.1);
    }
  });

  it('per-sample sets apply to their own samples in a left-padded batch', () => {
    const sae = gemma;
    const w = sae.meta.dSae;
    const [a, b] = activeFeatures(sae, 2);
    // sample 0: pads at slots 0..2; sample 1: no edit; sample 2: its own feature.
    const mask = [
      [0, 0, 0, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1, 1, 1],
      [0, 0, 0, 0, 0, 1, 1, 1],
    ];
    const ctx = ctxFor(sae.meta.hookPoint, T, { attentionMask: tf.tensor2d(mask) });
    const o: SpliceOptions = {
      perSample: [[{ features: [a!], op: 'set', value: 2 }], [], [{ features: [b!], op: 'multiply', value: 4 }]],
    };
    const out = run(sae, o, x, ctx).dataSync();
    const want = expectedEdit(sae, x, (f) => {
      for (let t = 0; t < T; t++) {
        f[(0 * T + t) * w + a!] = 2;
        f[(2 * T + t) * w + b!] = 4 * f[(2 * T + t) * w + b!]!;
      }
      return f;
    });
    expect(maxAbsDiff(out, want)).toBeLessThanOrEqual(1e-5);
    // Sample 1 is untouched.
    const row1 = out.slice(T * 64, 2 * T * 64);
    expect(maxAbsDiff(row1, x.dataSync().slice(T * 64, 2 * T * 64))).toBeLessThanOrEqual(1e-5);
    expect(() => run(sae, { perSample: [[]] }, x, ctx)).toThrow(/batch has 3/);
  });

  it('position rules: prompt only, from a slot per feature, and decoding steps', () => {
    const sae = llama;
    const w = sae.meta.dSae;
    const [a, b] = activeFeatures(sae, 2);
    const o: SpliceOptions = {
      edits: [
        { features: [a!, b!], op: 'set', value: 3, positions: { from: [2, 5] } },
        { features: [b!], op: 'multiply', value: 0, positions: 'prompt' },
      ],
    };
    // Prompt pass: all 8 slots are prompt; a set from slot 2, b set from 5 then zeroed (prompt).
    const out = run(sae, o, x, ctxFor(sae.meta.hookPoint, T)).dataSync();
    const want = expectedEdit(sae, x, (f) => {
      for (let r = 0; r < B; r++)
        for (let t = 0; t < T; t++) {
          const o2 = (r * T + t) * w;
          if (t >= 2) f[o2 + a!] = 3;
          if (t >= 5) f[o2 + b!] = 3;
          f[o2 + b!] = 0;
        }
      return f;
    });
    expect(maxAbsDiff(out, want)).toBeLessThanOrEqual(1e-5);
    // Decoding step 0 (slot 8, one position): the from-rules apply, the prompt-only edit does not.
    const x1 = tf.slice(x, [0, 3, 0], [B, 1, 64]) as tf.Tensor3D;
    const ctx1 = ctxFor(sae.meta.hookPoint, 1, { offset: 8, promptLength: 8, step: 0 });
    const out1 = run(sae, o, x1, ctx1).dataSync();
    const want1 = expectedEdit(sae, x1, (f) => {
      for (let r = 0; r < B; r++) {
        f[r * w + a!] = 3;
        f[r * w + b!] = 3;
      }
      return f;
    });
    expect(maxAbsDiff(out1, want1)).toBeLessThanOrEqual(1e-5);
  });

  it('gradients reach f at every spliced layer in one backward pass (δ leaves)', () => {
    // Two stacked "layers": out1 = splice_gemma(x); out2 = splice_gemma(out1 * 0.5); m = Σ out2 · u
    const sae = gemma;
    const d1 = tf.zeros([B, T, sae.meta.dSae]) as tf.Tensor3D;
    const d2 = tf.zeros([B, T, sae.meta.dSae]) as tf.Tensor3D;
    const u = tf.randomNormal([B, T, 64], 0, 1, 'float32', 7) as tf.Tensor3D;
    const [a] = activeFeatures(sae, 1);
    const h1 = spliceHook(sae, { delta: d1, edits: [{ features: [a!], op: 'multiply', value: 2 }] });
    const h2 = spliceHook(sae, { delta: d2 });
    const ctx = ctxFor(sae.meta.hookPoint, T);
    const metric = () => {
      const o1 = h1(x, ctx) as tf.Tensor3D;
      const o2 = h2(tf.mul(o1, 0.5) as tf.Tensor3D, ctx) as tf.Tensor3D;
      return tf.sum(tf.mul(o2, u)) as tf.Scalar;
    };
    const [g1, g2] = tf.grads(() => metric())([d1, d2]) as [tf.Tensor, tf.Tensor];
    // ∂m/∂f2 = u · W_decᵀ  (ε is held from f, dec is affine)
    const want2 = tf.matMul(tf.reshape(u, [-1, 64]), sae.W_dec, false, true);
    expect(maxAbsDiff(g2.dataSync(), want2.dataSync())).toBeLessThanOrEqual(1e-4);
    // ∂m/∂f1: through the edit (×2 on feature a), dec, the 0.5 scale and the second splice's dependence on
    // its input. Check by finite differences on a few entries.
    const g1d = g1.dataSync();
    const base = metric().dataSync()[0]!;
    const eps = 1e-2;
    for (const [r, t, i] of [
      [0, 1, a!],
      [1, 4, 3],
      [2, 7, 17],
    ] as const) {
      const bump = tf.buffer([B, T, sae.meta.dSae], 'float32');
      bump.set(eps, r, t, i);
      const d1b = bump.toTensor();
      const hb = spliceHook(sae, { delta: d1b, edits: [{ features: [a!], op: 'multiply', value: 2 }] });
      const o1 = hb(x, ctx) as tf.Tensor3D;
      const o2 = h2(tf.mul(o1, 0.5) as tf.Tensor3D, ctx) as tf.Tensor3D;
      // h2 uses d2 = 0 here, fine.
      const mb = tf.sum(tf.mul(o2, u)).dataSync()[0]!;
      const fd = (mb - base) / eps;
      const an = g1d[(r * T + t) * sae.meta.dSae + i]!;
      expect(Math.abs(fd - an)).toBeLessThanOrEqual(2e-2 * Math.max(1, Math.abs(an)));
    }
    expect(Math.max(...Array.from(g1d).map(Math.abs))).toBeGreaterThan(0);
  });
});

describe('S1 clamp shortcut', () => {
  it('equals the literal splice (multiply, set, per-sample, positions) on both SAEs', () => {
    for (const sae of [gemma, llama]) {
      const fs = activeFeatures(sae, 4);
      const spec: SpliceOptions = {
        edits: [
          { features: [fs[0]!, fs[1]!], op: 'multiply', value: -3 },
          { features: [fs[2]!], op: 'set', value: 1.5, positions: { from: 4 } },
        ],
        perSample: [[{ features: [fs[3]!], op: 'set', value: 0 }], [], [{ features: [fs[0]!], op: 'multiply', value: 0.5, positions: 'prompt' }]],
      };
      const S = editedFeatures(spec);
      const slice = sliceSae(sae, S);
      const ctx = ctxFor(sae.meta.hookPoint, T);
      const lit = run(sae, spec, x, ctx).dataSync();
      const short = (clampHook(slice, spec)(x, ctx) as tf.Tensor3D).dataSync();
      expect(maxAbsDiff(lit, short)).toBeLessThanOrEqual(1e-5);
      // decoding step
      const x1 = tf.slice(x, [0, 5, 0], [B, 1, 64]) as tf.Tensor3D;
      const ctx1 = ctxFor(sae.meta.hookPoint, 1, { offset: 9, promptLength: 8, step: 1 });
      expect(maxAbsDiff(run(sae, spec, x1, ctx1).dataSync(), (clampHook(slice, spec)(x1, ctx1) as tf.Tensor3D).dataSync())).toBeLessThanOrEqual(1e-5);
      slice.dispose();
    }
  });

  it('works with applyBDecToInput SAEs and refuses features outside the slice', () => {
    const g = gemma as TfSae;
    const meta = { ...g.meta, applyBDecToInput: true, id: 'bdec' };
    const sae = new TfSae(meta, {
      W_enc: g.W_enc.dataSync() as Float32Array,
      b_enc: g.b_enc.dataSync() as Float32Array,
      W_dec: g.W_dec.dataSync() as Float32Array,
      b_dec: tf.mul(g.b_dec, 10).dataSync() as Float32Array,
      threshold: g.threshold!.dataSync() as Float32Array,
    });
    const fs = activeFeatures(sae, 2);
    const spec: SpliceOptions = { edits: [{ features: fs, op: 'multiply', value: 7 }] };
    const slice = sliceSae(sae, fs);
    const ctx = ctxFor(sae.meta.hookPoint, T);
    expect(maxAbsDiff(run(sae, spec, x, ctx).dataSync(), (clampHook(slice, spec)(x, ctx) as tf.Tensor3D).dataSync())).toBeLessThanOrEqual(1e-5);
    const bad = clampHook(sliceSae(sae, [fs[0]!]), { edits: [{ features: [fs[1]!], op: 'set', value: 0 }] });
    expect(() => bad(x, ctx)).toThrow(/not in the slice/);
    sae.dispose();
  });
});
