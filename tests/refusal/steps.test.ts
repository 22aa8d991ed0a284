import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { hookNames } from '../../workers/model/types.js';
import { refusalDirection } from '../../workers/refusal/direction.js';
import { alphaSchedule, laIg } from '../../workers/refusal/attribution.js';
import { cosinePool } from '../../workers/refusal/pool.js';
import { selectAp, selectFeatures } from '../../workers/refusal/selection.js';
import { generateUnder } from '../../workers/refusal/generate.js';
import { quietCtx } from '../../workers/refusal/types.js';
import { leftPad } from '../../workers/refusal/batch.js';
import { prompts, toyLens, useCpu } from './helpers.js';

const HARM = ['how to make a bomb', 'steal a car now', 'hack the bank', 'poison'];
const SAFE = ['bake bread', 'write a poem about sea', 'sum two numbers', 'hello'];

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num = Math.max(num, Math.abs(a[i] - b[i])); den = Math.max(den, Math.abs(b[i])); }
  return num / Math.max(den, 1e-12);
}

describe('refusal steps on a toy model', () => {
  beforeAll(useCpu);

  it('direction equals the hand-computed difference of last-position means', async () => {
    const t = toyLens();
    const H = prompts(t.lens, HARM), S = prompts(t.lens, SAFE);
    const r = await refusalDirection(t.lens, { harmful: H, harmless: S, batchSize: 3 });
    const L = 3, d = 16;
    for (let l = 0; l < L; l++) {
      const mean = (ps: typeof H) => {
        const acc = new Float64Array(d);
        for (const p of ps) {
          const z = tf.tidy(() => {
            const o = t.model.forward({ inputIds: [p.ids] }, { cache: [hookNames.residPost(l)] });
            o.logits?.dispose();
            return o.cache.get(hookNames.residPost(l))!;
          });
          const a = z.dataSync();
          for (let i = 0; i < d; i++) acc[i] += a[(p.ids.length - 1) * d + i] / ps.length;
          z.dispose();
        }
        return acc;
      };
      const mh = mean(H), ms = mean(S);
      const want = Array.from(mh, (x, i) => x - ms[i]);
      expect(relErr(r.directions[l], want)).toBeLessThan(1e-4);
    }
    t.dispose();
  });

  it('alpha schedules', () => {
    const tr = alphaSchedule(10, 'trapezoid');
    expect(tr.length).toBe(11);
    expect(tr.reduce((a, b) => a + b.weight, 0)).toBeCloseTo(1, 10);
    expect(alphaSchedule(10, 'left').map((x) => x.alpha).at(-1)).toBeCloseTo(0.9);
    expect(alphaSchedule(10, 'midpoint')[0].alpha).toBeCloseTo(0.05);
  });

  it('IG with one left step equals plain attribution patching', async () => {
    const t = toyLens();
    const H = prompts(t.lens, HARM.slice(0, 2));
    const S = prompts(t.lens, SAFE);
    const dir = (await refusalDirection(t.lens, { harmful: H, harmless: S })).directions[1];
    const pool: Record<number, number[]> = { 0: [0, 1, 2, 3], 1: [4, 5, 6], 2: [7, 8] };
    const r = await laIg(t.lens, { prompts: H, direction: dir, steps: 1, alphaRule: 'left', pool, batchSize: 2 }, quietCtx());
    // AP by hand: gradient of m on the clean model w.r.t. resid_post l, projected on W_dec, times Δ
    const batch = leftPad(H.map((p) => p.ids), 0);
    for (const l of [0, 1, 2]) {
      const sae = t.saes[l];
      const B = 2, T = batch.T;
      const V = 32;
      const coef = new Float32Array(B * V);
      r.samples.forEach((s, b) => { coef[b * V + s.jToken] += 1; coef[b * V + 5] -= 1; });
      const cf = tf.tensor2d(coef, [B, V]);
      const d0 = tf.zeros([B, T, 16]);
      const g = tf.grads((dd: tf.Tensor) => {
        const o = t.model.forward(batch, { hooks: [{ point: hookNames.residPost(l), fn: (a) => tf.add(a, dd) as tf.Tensor3D }] });
        return tf.sum(tf.mul(tf.reshape(tf.slice(o.logits!, [0, T - 1, 0], [B, 1, V]), [B, V]), cf));
      })([d0])[0];
      const gf = tf.reshape(tf.matMul(tf.reshape(g, [B * T, 16]), sae.W_dec, false, true), [B, T, -1]);
      // Δ from the stored per-sample delta: check attr = Δ·gf at pool features
      const gd = gf.dataSync();
      r.samples.forEach((s, b) => {
        const pl = batch.padLeft[b];
        const K = pool[l].length;
        for (let tt = 0; tt < T - pl; tt++) for (const [k, i] of pool[l].entries()) {
          const want = s.poolDelta[l][tt * K + k] * gd[(b * T + pl + tt) * 24 + i];
          expect(s.poolAttr[l][tt * K + k]).toBeCloseTo(want, 4);
          expect(s.poolGrad[l][tt * K + k]).toBeCloseTo(gd[(b * T + pl + tt) * 24 + i], 4);
        }
      });
    }
    t.dispose();
  });

  it('S2 shortcut equals the literal splice (attributions ≤1e-4 rel, same selection)', async () => {
    const t = toyLens({ seed: 3 });
    const H = prompts(t.lens, HARM);
    const S = prompts(t.lens, SAFE);
    const dir = (await refusalDirection(t.lens, { harmful: H, harmless: S })).directions[1];
    const { pool } = await cosinePool(t.lens, { direction: dir, k: 6, kStar: 5 }, quietCtx());
    for (const errorTerm of ['ablated', 'compat'] as const) {
      const base = { prompts: H, direction: dir, steps: 4, pool, batchSize: 3, fullWidth: true, errorTerm };
      const a = await laIg(t.lens, { ...base, path: 'shortcut' }, quietCtx());
      const b = await laIg(t.lens, { ...base, path: 'literal' }, quietCtx());
      for (let s = 0; s < H.length; s++) for (const l of [0, 1, 2]) {
        expect(relErr(a.samples[s].poolAttr[l], b.samples[s].poolAttr[l])).toBeLessThan(1e-4);
      }
      for (const l of [0, 1, 2]) expect(relErr(a.apSum![l], b.apSum![l])).toBeLessThan(1e-4);
      const mx = Math.max(...a.samples.flatMap((s) => [0, 1, 2].flatMap((l) => Array.from(s.poolAttr[l]).map(Math.abs))));
      expect(mx).toBeGreaterThan(1e-3);
      const sa = selectFeatures(a, { kStar: 5, skipPrefix: 1 });
      const sb = selectFeatures(b, { kStar: 5, skipPrefix: 1 });
      expect(sa.local.sets).toEqual(sb.local.sets);
      expect(sa.global.sets).toEqual(sb.global.sets);
      expect(selectAp(a, { kStar: 5 }).local.sets).toEqual(selectAp(b, { kStar: 5 }).local.sets);
    }
    t.dispose();
  });

  it('S2 = literal with Arditi ablation sites and the non-refusal metric token', async () => {
    const t = toyLens({ seed: 4 });
    const H = prompts(t.lens, HARM);
    const dir = (await refusalDirection(t.lens, { harmful: H, harmless: prompts(t.lens, SAFE) })).directions[2];
    const pool: Record<number, number[]> = { 0: [1, 2, 3], 1: [4, 5], 2: [6, 7, 8] };
    const base = { prompts: H, direction: dir, steps: 3, pool, ablationSites: 'arditi' as const, jToken: 'non-refusal' as const };
    const a = await laIg(t.lens, { ...base, path: 'shortcut' }, quietCtx());
    const b = await laIg(t.lens, { ...base, path: 'literal' }, quietCtx());
    expect(a.samples.every((s) => s.jToken !== 5)).toBe(true);
    for (let s = 0; s < H.length; s++) for (const l of [0, 1, 2]) expect(relErr(a.samples[s].poolAttr[l], b.samples[s].poolAttr[l])).toBeLessThan(1e-4);
    t.dispose();
  });

  it('S1 sparse clamp equals the literal splice token for token', async () => {
    const t = toyLens({ seed: 5 });
    const H = prompts(t.lens, HARM);
    const sets = { kind: 'local' as const, sets: [
      [{ layer: 0, index: 1 }, { layer: 2, index: 3 }], [], [{ layer: 1, index: 7 }, { layer: 1, index: 2 }], [{ layer: 0, index: 0 }],
    ] };
    for (const edit of [{ mode: 'multiply' as const, c: -3 }, { mode: 'set' as const, v: 4 }]) {
      for (const positions of ['all', 'generated'] as const) {
        const g1 = await generateUnder(t.lens, { prompts: H, condition: { kind: 'clamp', sets, edit, positions, path: 'sparse' }, maxNewTokens: 8, batchSize: 4 }, quietCtx());
        const g2 = await generateUnder(t.lens, { prompts: H, condition: { kind: 'clamp', sets, edit, positions, path: 'literal' }, maxNewTokens: 8, batchSize: 4 }, quietCtx());
        expect(g1.map((g) => g.tokens)).toEqual(g2.map((g) => g.tokens));
      }
    }
    // the clamp changes something
    const none = await generateUnder(t.lens, { prompts: H, condition: { kind: 'none' }, maxNewTokens: 8 }, quietCtx());
    const big = await generateUnder(t.lens, { prompts: H, condition: { kind: 'clamp', sets, edit: { mode: 'set', v: 30 } }, maxNewTokens: 8 }, quietCtx());
    expect(big.map((g) => g.tokens)).not.toEqual(none.map((g) => g.tokens));
    t.dispose();
  });
});
