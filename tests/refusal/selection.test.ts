import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { hookNames } from '../../workers/model/types.js';
import type { AttributionResult, SampleAttribution } from '../../workers/refusal/attribution.js';
import { laIg } from '../../workers/refusal/attribution.js';
import { leftPad, positionMask } from '../../workers/refusal/batch.js';
import { refusalDirection } from '../../workers/refusal/direction.js';
import { generateUnder } from '../../workers/refusal/generate.js';
import { buildGraph } from '../../workers/refusal/graph.js';
import { planMemory, pickBatchSize } from '../../workers/refusal/memory.js';
import { ceLoss } from '../../workers/refusal/sideeffects.js';
import { randomControl, selectAp, selectFeatures } from '../../workers/refusal/selection.js';
import { sparseEncode, sparseSlice } from '../../workers/refusal/sae-math.js';
import { quietCtx } from '../../workers/refusal/types.js';
import { prompts, toyLens, useCpu } from './helpers.js';

function sample(poolAttr: Record<number, number[]>, ids: number[], apTop?: Record<number, Array<[number, number]>>): SampleAttribution {
  const f = (o: Record<number, number[]>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Float32Array.from(v)]));
  return { ids, jToken: 0, metricClean: 0, metricPatched: 0, poolAttr: f(poolAttr), poolGrad: f(poolAttr), poolDelta: f(poolAttr), apTop };
}

describe('selection', () => {
  beforeAll(useCpu);

  it('K* on a crafted attribution tensor: masked mean over non-BOS positions, local and global', () => {
    // pool: layer 0 → [5, 7], layer 1 → [2]; 3 tokens (BOS + 2); row-major [T × K]
    const attr = {
      pool: { 0: [5, 7], 1: [2] },
      samples: [
        // BOS position carries a huge value that must be ignored (W13)
        sample({ 0: [100, 100, 1, 0, 3, 0], 1: [100, 2, 2] }, [2, 10, 11]),
        sample({ 0: [0, 0, 0, 5, 0, 5], 1: [0, -1, -1] }, [2, 12, 13]),
      ],
    } as Pick<AttributionResult, 'pool' | 'samples'>;
    const s = selectFeatures(attr, { kStar: 2, skipPrefix: 1 });
    // sample 0: L0/5 mean (1+3)/2 = 2, L0/7 0, L1/2 2 → tie broken by layer: L0/5, L1/2
    expect(s.local.sets[0]).toEqual([{ layer: 0, index: 5 }, { layer: 1, index: 2 }]);
    // sample 1: L0/7 = 5, L0/5 = 0, L1/2 = −1
    expect(s.local.sets[1]).toEqual([{ layer: 0, index: 7 }, { layer: 0, index: 5 }]);
    // global means: L0/5 = 1, L0/7 = 2.5, L1/2 = 0.5
    expect(s.global.sets[0]).toEqual([{ layer: 0, index: 7 }, { layer: 0, index: 5 }]);
    expect(s.globalScores.map((x) => x.score)).toEqual([2.5, 1]);
  });

  it('AP per-sample sets are aligned with sample index (W1); compat reproduces the misalignment', () => {
    const attr = {
      path: 'shortcut', alphaRule: 'trapezoid', steps: 1, errorTerm: 'ablated', pool: {},
      samples: [
        sample({}, [2], { 0: [], 1: [[3, 1]] }),
        sample({}, [2], { 0: [[4, 2]], 1: [] }),
        sample({}, [2], { 0: [[6, 3]], 1: [[8, 0.5]] }),
      ],
      apSum: { 0: Float64Array.from([0, 0, 0, 0, 2, 0, 3]), 1: Float64Array.from([0, 0, 0, 1, 0, 0, 0, 0, 0.5]) },
    } as unknown as AttributionResult;
    const a = selectAp(attr, { kStar: 2 });
    expect(a.local.sets).toEqual([[{ layer: 1, index: 3 }], [{ layer: 0, index: 4 }], [{ layer: 0, index: 6 }, { layer: 1, index: 8 }]]);
    const c = selectAp(attr, { kStar: 2, compatMisaligned: true });
    // layer 0 lists [4],[6] land on samples 0,1; layer 1 lists [3],[8] on samples 0,1; sample 2 gets none
    expect(c.local.sets[0]).toEqual([{ layer: 0, index: 4 }, { layer: 1, index: 3 }]);
    expect(c.local.sets[2]).toEqual([]);
    expect(a.global.sets[0].length).toBe(2);
  });

  it('a per-sample clamp touches only its own row', async () => {
    const t = toyLens({ seed: 11 });
    const H = prompts(t.lens, ['aaa', 'bbbb', 'cc']);
    const none = await generateUnder(t.lens, { prompts: H, condition: { kind: 'none' }, maxNewTokens: 6 }, quietCtx());
    const sets = { kind: 'local' as const, sets: [[], [{ layer: 1, index: 3 }, { layer: 2, index: 5 }], []] };
    const cl = await generateUnder(t.lens, { prompts: H, condition: { kind: 'clamp', sets, edit: { mode: 'set', v: 40 } }, maxNewTokens: 6 }, quietCtx());
    expect(cl[0].tokens).toEqual(none[0].tokens);
    expect(cl[2].tokens).toEqual(none[2].tokens);
    expect(cl[1].tokens).not.toEqual(none[1].tokens);
    // the random control keeps layers and counts
    const r = await randomControl(t.lens, sets, 1);
    expect(r.sets.map((s) => s.map((f) => f.layer))).toEqual([[], [1, 2], []]);
    t.dispose();
  });

  it('graph gradient edges equal finite differences (no stop-gradient); stop-gradient is a no-op for adjacent layers', async () => {
    const t = toyLens({ seed: 13 });
    const H = prompts(t.lens, ['make it', 'do that now']);
    const dir = (await refusalDirection(t.lens, { harmful: H, harmless: prompts(t.lens, ['hi', 'ok there']) })).directions[1];
    const pool: Record<number, number[]> = { 0: [0, 1, 2, 3, 4, 5], 1: [0, 1, 2, 3, 4, 5], 2: [0, 1, 2, 3, 4, 5] };
    const attr = await laIg(t.lens, { prompts: H, direction: dir, steps: 2, pool }, quietCtx());
    // nodes: feature j at layer 0 with Δ≠0, feature i at layer 2 active
    const pick = (l: number) => pool[l].find((i) => attr.samples.some((s) => Array.from(s.poolDelta[l]).some((v, k) => k % 6 === pool[l].indexOf(i) && Math.abs(v) > 1e-3)))!;
    const j = pick(0), i = pick(2);
    const nodes = [{ layer: 0, index: j }, { layer: 2, index: i }];
    const g = await buildGraph(t.lens, { attr, nodes, stopGradient: 'none', clampMeasure: null }, quietCtx());
    const e = g.edges.find((x) => x.source === `L0/${j}` && x.target === `L2/${i}`)!;
    // finite difference
    const batch = leftPad(H.map((p) => p.ids), 0);
    const mask = positionMask(batch, 1);
    const T = batch.T, K = 6;
    const dn = sparseSlice(t.saes[2], [i]);
    const gD = tf.tensor2d(H.map((_, b) => { const a = attr.samples[b].poolGrad[2]; const n = a.length / K; return Array.from({ length: T }, (_, tt) => (tt >= T - n ? a[(tt - T + n) * K + pool[2].indexOf(i)] * mask[b][tt] : 0)); }));
    const dU = tf.tensor2d(H.map((_, b) => { const a = attr.samples[b].poolDelta[0]; const n = a.length / K; return Array.from({ length: T }, (_, tt) => (tt >= T - n ? a[(tt - T + n) * K + pool[0].indexOf(j)] * mask[b][tt] : 0)); }));
    const row = tf.slice(t.saes[0].W_dec, [j, 0], [1, 16]);
    const target = (eps: number) => tf.tidy(() => {
      let out = 0;
      const r = t.model.forward(batch, { logits: false, stopAtLayer: 2, hooks: [
        { point: hookNames.residPost(0), fn: (a) => tf.add(a, tf.mul(tf.reshape(dU, [H.length, T, 1]), tf.mul(row, eps))) as tf.Tensor3D },
        { point: hookNames.residPost(2), fn: (a) => { out = tf.sum(tf.mul(tf.reshape(sparseEncode(dn, a), [H.length, T]), gD)).dataSync()[0]; } },
      ] });
      void r;
      return out;
    });
    const eps = 1e-2;
    const fd = (target(eps) - target(-eps)) / (2 * eps) / H.length;
    expect(Math.abs(fd)).toBeGreaterThan(1e-4);
    expect(Math.abs(e.weight - fd)).toBeLessThan(2e-2 * Math.max(1e-3, Math.abs(fd)) + 1e-4);
    // one intermediate layer: the feature stop-gradient (W2) changes the edge
    const gs = await buildGraph(t.lens, { attr, nodes, stopGradient: 'features', clampMeasure: null }, quietCtx());
    const es = gs.edges.find((x) => x.source === `L0/${j}` && x.target === `L2/${i}`);
    expect(es?.weight ?? 0).not.toBeCloseTo(e.weight, 6);
    // adjacent layers: stop-gradient changes nothing
    const n2 = [{ layer: 1, index: pick(1) }, { layer: 2, index: i }];
    const a1 = await buildGraph(t.lens, { attr, nodes: n2, stopGradient: 'none', clampMeasure: null }, quietCtx());
    const a2 = await buildGraph(t.lens, { attr, nodes: n2, stopGradient: 'features', clampMeasure: null }, quietCtx());
    expect(a2.edges.map((x) => x.weight)).toEqual(a1.edges.map((x) => x.weight));
    dn.dispose();
    t.dispose();
  });

  it('CE over label tokens (W8) vs padded mean; memory planner', async () => {
    const t = toyLens();
    const items = [{ context: [2, 3, 4], label: [5, 6] }, { context: [2, 7], label: [8, 9, 10] }];
    const a = await ceLoss(t.lens, { items }, quietCtx());
    expect(a.tokens).toBe(5);
    const b = await ceLoss(t.lens, { items, normalise: 'compat' }, quietCtx());
    expect(b.ce).toBeLessThan(a.ce);
    const cfg = t.model.config;
    const m = { config: cfg, modelBytes: 1e6, saeLayerBytes: [1e5, 2e5, 1e5], dSae: 24, seqLen: 32, path: 'shortcut' as const };
    const p1 = planMemory(m, 4);
    expect(p1.parts.saes).toBe(2e5);
    expect(planMemory({ ...m, path: 'literal' }, 4).parts.saes).toBe(4e5);
    const pick = pickBatchSize(m, p1.peakBytes + 1);
    expect(pick!.batch).toBeGreaterThanOrEqual(4);
    expect(pickBatchSize(m, 1e6)).toBeNull();
    t.dispose();
  });
});

describe('W12 skip offset from the template', () => {
  it('BOS for Gemma-style, BOS + system block for Llama-3-style', async () => {
    const { deriveSkipPrefix } = await import('../../workers/refusal/lens.js');
    const gemma = { encode: () => [], decode: () => '', encodeInstruction: () => [2, 106, 1645, 108, 55, 107, 108, 106, 2516, 108], tokenToId: () => undefined, bosId: 2, endOfTurnId: 107 };
    expect(deriveSkipPrefix(gemma)).toBe(1);
    // <|begin_of_text|>=1, <|start_header_id|>=9: system header at 1, user header at 26
    const ids = [1, 9, 50, 10, ...Array(22).fill(7), 9, 60, 10, 5, 11, 9, 70, 10];
    const llama = { encode: () => [], decode: () => '', encodeInstruction: () => ids, tokenToId: (t: string) => (t === '<|start_header_id|>' ? 9 : undefined), bosId: 1, endOfTurnId: 11 };
    expect(deriveSkipPrefix(llama)).toBe(26);
  });
});
