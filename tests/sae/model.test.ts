/** SAE splices on the real engine (gemma2-tiny, llama31-tiny fixtures). */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../workers/engine/backend.js';
import { hookNames, leftPad, loadModel, gradientsAtHooks, type Hooks, type LoadedModel } from '../../workers/model/index.js';
import { loadSae } from '../../workers/sae/load.js';
import { fitPreflight } from '../../workers/sae/preflight.js';
import { TfSae, sliceSae } from '../../workers/sae/sae.js';
import { clampHooks, editedFeatures, spliceHook, spliceHooks, type EditSpec } from '../../workers/sae/splice.js';
import type { Sae } from '../../workers/sae/types.js';
import { FIX, maxAbsDiff } from './helpers.js';
import { greedyRecompute } from '../helpers/recompute.js';

function recompute(lm: LoadedModel, prompts: number[][], n: number, hooks: Hooks): number[][] {
  return greedyRecompute(lm.model, prompts, n, hooks);
}

/** The most often active features of an SAE on a batch. */
function topFeatures(lm: LoadedModel, sae: Sae, prompts: number[][], n: number): number[] {
  const batch = leftPad(prompts, 0);
  const out = lm.model.forward(batch, { cache: [sae.meta.hookPoint], logits: false });
  const act = out.cache.get(sae.meta.hookPoint)!;
  const f = sae.encode(act);
  const sum = tf.sum(tf.reshape(f, [-1, sae.meta.dSae]), 0);
  const idx = Array.from(tf.topk(sum, n).indices.dataSync());
  tf.dispose([act, f, sum]);
  return idx;
}

// Prompts straddle the Gemma sliding window (6).
const prompts = [
  [2, 40, 41, 42, 43, 44, 45, 46, 47],
  [2, 50, 51],
  [2, 60, 61, 62, 63, 64],
];
const N_NEW = 8;

describe('SAE splice during KV-cache generation equals full recompute', () => {
  let gemma: LoadedModel;
  let llama: LoadedModel;
  let gs: Sae; // Gemma Scope fixture at layer 2
  let gs1: Sae; // the same dictionary spliced at layer 1 too (stacking)
  let ls: Sae; // Llama Scope fixture at layer 1

  beforeAll(async () => {
    await initBackend();
    gemma = await loadModel(`${FIX}/gemma2-tiny`);
    llama = await loadModel(`${FIX}/llama31-tiny`);
    gs = await loadSae(`${FIX}/sae-gemmascope/params.npz`, { layer: 2, expectDModel: gemma.config.dModel });
    gs1 = await loadSae(`${FIX}/sae-gemmascope/params.npz`, { layer: 1, expectDModel: gemma.config.dModel });
    ls = await loadSae(`${FIX}/sae-saelens/raw_llamascope/L1R-8x`, { expectDModel: llama.config.dModel });
  });

  afterAll(() => {
    for (const s of [gs, gs1, ls]) s.dispose();
    gemma.model.dispose();
    llama.model.dispose();
  });

  it('without edits the splice leaves generation unchanged (error term kept)', async () => {
    const hooks = spliceHooks([{ sae: gs }, { sae: gs1 }]);
    const plain = await gemma.model.generate(leftPad(prompts, 0), { maxNewTokens: N_NEW, stopTokens: [] });
    const spliced = await gemma.model.generate(leftPad(prompts, 0), { maxNewTokens: N_NEW, hooks, stopTokens: [] });
    expect(spliced.newTokens).toEqual(plain.newTokens);
    const batch = leftPad(prompts, 0);
    const a = gemma.model.forward(batch).logits!;
    const b = gemma.model.forward(batch, { hooks }).logits!;
    expect(maxAbsDiff(a.dataSync(), b.dataSync())).toBeLessThanOrEqual(1e-4);
    tf.dispose([a, b]);
  });

  for (const which of ['gemma2-tiny (2 layers stacked)', 'llama31-tiny'] as const) {
    it(`edits stay applied on every cached step; S1 clamps give the same tokens: ${which}`, async () => {
      const isGemma = which.startsWith('gemma');
      const lm = isGemma ? gemma : llama;
      const saes = isGemma ? [gs, gs1] : [ls];
      const T = Math.max(...prompts.map((p) => p.length));
      const specs: EditSpec[] = saes.map((sae) => {
        const f = topFeatures(lm, sae, prompts, 4);
        return {
          edits: [
            { features: [f[0]!, f[1]!], op: 'multiply', value: -3 },
            { features: [f[2]!], op: 'set', value: 8, positions: { from: T + 2 } },
          ],
          perSample: [[{ features: [f[3]!], op: 'set', value: 6 }], [], [{ features: [f[0]!], op: 'multiply', value: 4 }]],
        };
      });
      const literal = spliceHooks(saes.map((sae, i) => ({ sae, ...specs[i]! })));
      const slices = saes.map((sae, i) => sliceSae(sae, editedFeatures(specs[i]!)));
      const clamp = clampHooks(slices.map((slice, i) => ({ slice, ...specs[i]! })));
      const before = tf.memory().numTensors;
      const cached = await lm.model.generate(leftPad(prompts, 0), { maxNewTokens: N_NEW, hooks: literal, stopTokens: [] });
      expect(tf.memory().numTensors).toBe(before);
      const truth = recompute(lm, prompts, N_NEW, literal);
      expect(cached.newTokens).toEqual(truth);
      const plain = await lm.model.generate(leftPad(prompts, 0), { maxNewTokens: N_NEW, stopTokens: [] });
      expect(plain.newTokens).not.toEqual(cached.newTokens);
      const short = await lm.model.generate(leftPad(prompts, 0), { maxNewTokens: N_NEW, hooks: clamp, stopTokens: [] });
      expect(short.newTokens).toEqual(cached.newTokens);
      // Logits of the full forward agree too (S1 is an identity, not an approximation).
      const batch = leftPad(prompts.map((p, b) => [...p, ...cached.newTokens[b]!]), 0);
      const la = lm.model.forward(batch, { hooks: literal }).logits!;
      const lb = lm.model.forward(batch, { hooks: clamp }).logits!;
      expect(maxAbsDiff(la.dataSync(), lb.dataSync())).toBeLessThanOrEqual(1e-4);
      tf.dispose([la, lb]);
      for (const s of slices) s.dispose();
    });
  }

  it('∂m/∂f at every spliced layer in one backward pass equals (∂m/∂z_out)·W_decᵀ', () => {
    const batch = leftPad(prompts, 0);
    const B = prompts.length;
    const T = batch.inputIds[0]!.length;
    const V = gemma.config.vocabSize;
    const target = 168;
    const metric = (logits: tf.Tensor3D) => tf.sum(tf.slice(logits, [0, T - 1, target], [B, 1, 1])) as tf.Scalar;
    const f0 = topFeatures(gemma, gs, prompts, 1)[0]!;
    const spec: EditSpec = { edits: [{ features: [f0], op: 'multiply', value: 2 }] };
    const d1 = tf.zeros([B, T, gs1.meta.dSae]);
    const d2 = tf.zeros([B, T, gs.meta.dSae]);
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => {
      const hooks: Hooks = [
        { point: gs1.meta.hookPoint, fn: spliceHook(gs1, { ...spec, delta: a }) },
        { point: gs.meta.hookPoint, fn: spliceHook(gs, { ...spec, delta: b }) },
      ];
      const out = gemma.model.forward(batch, { hooks });
      const m = metric(out.logits!);
      return m;
    })([d1, d2]);
    // Reference: the gradient at the spliced streams' outputs, projected on the decoder rows.
    const ref = gradientsAtHooks(gemma.model, batch, [gs1.meta.hookPoint, gs.meta.hookPoint], (out) => metric(out.logits!), spliceHooks([{ sae: gs1, ...spec }, { sae: gs, ...spec }]));
    for (const [i, sae] of [gs1, gs].entries()) {
      const g = ref.grads.get(sae.meta.hookPoint)!;
      // dec(edit(f)): ∂/∂f_j = W_dec[j]·g, times 2 for the edited feature.
      const proj = tf.matMul(tf.reshape(g, [-1, 64]), sae.W_dec, false, true);
      const scale = tf.tensor1d(Array.from({ length: sae.meta.dSae }, (_, j) => (j === f0 ? 2 : 1)));
      const want = tf.mul(proj, scale);
      const got = grads[i]!.dataSync();
      const wd = want.dataSync();
      const tol = 1e-4 * Math.max(1, ...Array.from(wd).map(Math.abs));
      expect(maxAbsDiff(got, wd)).toBeLessThanOrEqual(tol);
      expect(Math.max(...Array.from(got).map(Math.abs))).toBeGreaterThan(0);
      tf.dispose([g, proj, scale, want]);
    }
    void V;
    tf.dispose([d1, d2, ...grads]);
  });
});

describe('fit preflight on the engine', () => {
  let lm: LoadedModel;
  beforeAll(async () => {
    await initBackend();
    lm = await loadModel(`${FIX}/gemma2-tiny`);
  });
  afterAll(() => lm.model.dispose());

  it('a perfect dictionary recovers all CE; the fixture SAE gets consistent statistics', async () => {
    const d = lm.config.dModel;
    // relu(x) − relu(−x) = x: an exact SAE with 2d features.
    const W_enc = new Float32Array(d * 2 * d);
    const W_dec = new Float32Array(2 * d * d);
    for (let i = 0; i < d; i++) {
      W_enc[i * 2 * d + i] = 1;
      W_enc[i * 2 * d + d + i] = -1;
      W_dec[i * d + i] = 1;
      W_dec[(d + i) * d + i] = -1;
    }
    const perfect = new TfSae(
      { id: 'perfect', format: 'saelens', source: '-', architecture: 'relu', layer: 2, hookPoint: hookNames.residPost(2), dIn: d, dSae: 2 * d, k: null, applyBDecToInput: false, neuronpediaId: null, notes: [] },
      { W_enc, b_enc: new Float32Array(2 * d), W_dec, b_dec: new Float32Array(d), threshold: null },
    );
    const batches = [leftPad(prompts, 0), { inputIds: [[2, 226, 59, 148, 231, 151, 243, 19, 92, 86]] }];
    const p = fitPreflight(lm.model, batches, perfect);
    expect(p.tokens).toBe(9 + 3 + 6 + 10);
    expect(p.mse).toBeLessThan(1e-10);
    expect(p.fve).toBeGreaterThan(1 - 1e-6);
    expect(p.ce!.recovered).toBeGreaterThan(1 - 1e-4);
    expect(p.ce!.recovered).toBeLessThan(1 + 1e-4);
    // Zeroing the stream makes the logits uniform on this random model: CE = ln(vocab).
    expect(p.ce!.zero).toBeCloseTo(Math.log(lm.config.vocabSize), 4);
    expect(Math.abs(p.ce!.recon - p.ce!.clean)).toBeLessThan(1e-4);
    perfect.dispose();

    const sae = await loadSae(`${FIX}/sae-gemmascope/params.npz`, { layer: 2 });
    const r = fitPreflight(lm.model, batches, sae);
    // Independent: statistics from the cached activations at valid positions.
    let sse = 0;
    let l0 = 0;
    let n = 0;
    const active = new Set<number>();
    for (const batch of batches) {
      const out = lm.model.forward(batch, { cache: [sae.meta.hookPoint], logits: false });
      const x = out.cache.get(sae.meta.hookPoint)!;
      const f = sae.encode(x).dataSync();
      const e = tf.sub(x, sae.decode(sae.encode(x))).dataSync();
      const mask = batch.attentionMask ?? batch.inputIds.map((r2) => r2.map(() => 1));
      const T = batch.inputIds[0]!.length;
      mask.forEach((row, b) =>
        row.forEach((m, t) => {
          if (!m) return;
          n++;
          for (let i = 0; i < d; i++) sse += e[(b * T + t) * d + i]! ** 2;
          for (let j = 0; j < sae.meta.dSae; j++)
            if (f[(b * T + t) * sae.meta.dSae + j]! > 0) {
              l0++;
              active.add(j);
            }
        }),
      );
      x.dispose();
    }
    expect(r.tokens).toBe(n);
    expect(Math.abs(r.mse - sse / (n * d))).toBeLessThanOrEqual(1e-6 * Math.max(1, r.mse));
    expect(r.meanL0).toBeCloseTo(l0 / n, 10);
    expect(r.deadFraction).toBeCloseTo(1 - active.size / sae.meta.dSae, 10);
    expect(r.fve).toBeLessThan(1);
    expect(Number.isFinite(r.ce!.recovered)).toBe(true);
    expect(r.ce!.recovered).toBeCloseTo((r.ce!.zero - r.ce!.recon) / (r.ce!.zero - r.ce!.clean), 10);
    sae.dispose();
  });
});
