/** Probe inputs on the real Gemma-2 port (gemma2-tiny fixture, raw ids): attention masks honoured (W6). */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../workers/model/index.js';
import { activeFeatures, positionWeights, probeActivations, randomFeatureSet, type ProbePosition } from '../../workers/probes/activations.js';
import type { FeatureSet } from '../../workers/refusal/types.js';
import type { Sae } from '../../workers/sae/types.js';
import { memoryProvider, toySae } from '../refusal/toy.js';
import { useCpu } from '../refusal/helpers.js';
import { fixturesDir } from '../helpers/fixtures.js';

const FIX = path.join(fixturesDir, 'gemma2-tiny');

// Lengths straddle the fixture's sliding window (6); BOS = 2.
const SEQS = [
  [2, 40, 41, 42, 43, 44, 45, 46, 47, 48],
  [2, 50, 51],
  [2, 60, 61, 62, 63, 64],
  [2, 70],
  [2, 80, 81, 82, 83, 84, 85, 86],
];

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('probe activations with attention masks (W6)', () => {
  let lm: LoadedModel;
  let saes: Sae[];
  beforeAll(async () => {
    await useCpu();
    lm = await loadModel(FIX);
    saes = [1, 3].map((l) => toySae(l, lm.model.config.dModel, 40, 500 + l));
  });
  afterAll(() => {
    lm?.model.dispose();
    saes?.forEach((s) => s.dispose());
  });

  const sets: Record<string, FeatureSet> = {
    refusal: [{ layer: 3, index: 7 }, { layer: 1, index: 2 }, { layer: 3, index: 30 }, { layer: 1, index: 11 }],
    other: [{ layer: 1, index: 2 }, { layer: 1, index: 39 }],
  };

  for (const position of ['last', { fromEnd: 1 }, 'mean'] as ProbePosition[]) {
    it(`padded batch = each sequence alone (${JSON.stringify(position)})`, async () => {
      const opts = { padId: lm.model.config.padTokenId, position, skipPrefix: 1, saes: memoryProvider(saes) };
      const req = { denseLayers: [0, 1, 2, 3], featureSets: sets };
      const batched = await probeActivations(lm.model, SEQS, req, { ...opts, batchSize: 5 });
      const alone = await probeActivations(lm.model, SEQS, req, { ...opts, batchSize: 1 });
      for (const l of req.denseLayers) {
        expect(batched.dense.get(l)!.length).toBe(SEQS.length);
        for (let i = 0; i < SEQS.length; i++) {
          const a = alone.dense.get(l)![i]!;
          expect(a.length).toBe(lm.model.config.dModel);
          expect(maxDiff(batched.dense.get(l)![i]!, a)).toBeLessThan(1e-4 * Math.max(1, maxDiff(a, new Float32Array(a.length))));
        }
      }
      for (const name of Object.keys(sets)) {
        for (let i = 0; i < SEQS.length; i++) {
          expect(batched.features[name]![i]!.length).toBe(sets[name]!.length);
          expect(maxDiff(batched.features[name]![i]!, alone.features[name]![i]!)).toBeLessThan(1e-4);
        }
      }
      // Not trivially zero.
      expect(batched.features.refusal!.some((r) => r.some((v) => v > 0))).toBe(true);
      // The shared feature L1/2 reads the same values in both sets.
      for (let i = 0; i < SEQS.length; i++) expect(batched.features.refusal![i]![1]).toBe(batched.features.other![i]![0]);
    });
  }

  it('leaves no tensors behind (dense, features, active pool; and when it throws)', async () => {
    const before = tf.memory().numTensors;
    const p = memoryProvider(saes);
    await probeActivations(lm.model, SEQS, { denseLayers: [0, 3], featureSets: sets }, { padId: 0, position: 'mean', skipPrefix: 1, batchSize: 2, saes: p });
    await activeFeatures(lm.model, p, SEQS, [1, 3], { padId: 0, batchSize: 2, chunk: 3 });
    await expect(probeActivations(lm.model, [[2, 5]], { denseLayers: [0], featureSets: sets }, { padId: 0, position: { fromEnd: 4 }, saes: p })).rejects.toThrow(/outside/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the unmasked compat forward (the reference) does depend on the padding', async () => {
    const opts = { padId: lm.model.config.padTokenId, mask: 'compat' as const };
    const batched = await probeActivations(lm.model, SEQS, { denseLayers: [2] }, { ...opts, batchSize: 5 });
    const alone = await probeActivations(lm.model, SEQS, { denseLayers: [2] }, { ...opts, batchSize: 1 });
    // Sequence 1 is padded by 7 slots in the batch.
    expect(maxDiff(batched.dense.get(2)![1]!, alone.dense.get(2)![1]!)).toBeGreaterThan(1e-3);
    // The longest sequence has no pads: identical either way.
    expect(maxDiff(batched.dense.get(2)![0]!, alone.dense.get(2)![0]!)).toBeLessThan(1e-5);
  });

  it('active features: exactly those the probe reads as non-zero on enough sequences', async () => {
    const opts = { padId: lm.model.config.padTokenId, position: 'last' as const, batchSize: 2 };
    const pool = await activeFeatures(lm.model, memoryProvider(saes), SEQS, [3, 1], { ...opts, minFrac: 0.4, chunk: 3 });
    expect([...pool.keys()]).toEqual([1, 3]);
    for (const l of [1, 3]) {
      const all = Array.from({ length: 40 }, (_, index) => ({ layer: l, index }));
      const acts = await probeActivations(lm.model, SEQS, { denseLayers: [], featureSets: { all } }, { ...opts, saes: memoryProvider(saes) });
      const want = all.map((f) => f.index).filter((j) => acts.features.all!.filter((r) => r[j] !== 0).length >= 2);
      expect(pool.get(l)).toEqual(want);
      expect(want.length).toBeGreaterThan(0);
      expect(want.length).toBeLessThan(40);
    }
  });

  it('rejects positions outside a sequence and features outside the SAE', async () => {
    expect(() => positionWeights([2], 4, { fromEnd: 2 })).toThrow(/outside/);
    await expect(
      probeActivations(lm.model, SEQS, { denseLayers: [], featureSets: { x: [{ layer: 1, index: 40 }] } }, { padId: 0, saes: memoryProvider(saes) }),
    ).rejects.toThrow(/outside the SAE/);
    await expect(
      probeActivations(lm.model, SEQS, { denseLayers: [], featureSets: { x: [{ layer: 2, index: 0 }] } }, { padId: 0, saes: memoryProvider(saes) }),
    ).rejects.toThrow(/layer 2/);
  });
});

describe('random control feature set', () => {
  const like: FeatureSet = [{ layer: 13, index: 48974 }, { layer: 11, index: 25312 }, { layer: 12, index: 32599 }, { layer: 13, index: 5 }, { layer: 16, index: 46368 }];
  it('same size and layers (in order), no overlap, seeded', () => {
    const r = randomFeatureSet(like, () => 65536, 7);
    expect(r.length).toBe(like.length);
    expect(r.map((f) => f.layer)).toEqual(like.map((f) => f.layer));
    expect(new Set(r.map((f) => `${f.layer}/${f.index}`)).size).toBe(r.length);
    for (const f of r) expect(like.some((g) => g.layer === f.layer && g.index === f.index)).toBe(false);
    expect(randomFeatureSet(like, () => 65536, 7)).toEqual(r);
    expect(randomFeatureSet(like, () => 65536, 8)).not.toEqual(r);
  });
  it('draws from a pool when given (e.g. live features), seeded, excluding the set itself', () => {
    const pool = (l: number) => (l === 13 ? [5, 9, 11, 20, 48974] : [1, 2, 3, 4]);
    const r = randomFeatureSet(like, () => 65536, 3, { pool });
    expect(r.map((f) => f.layer)).toEqual(like.map((f) => f.layer));
    for (const f of r) expect(pool(f.layer)).toContain(f.index);
    expect(r.filter((f) => f.layer === 13).every((f) => f.index !== 5 && f.index !== 48974)).toBe(true);
    expect(randomFeatureSet(like, () => 65536, 3, { pool })).toEqual(r);
    expect(() => randomFeatureSet(like, () => 65536, 3, { pool: () => [1] })).toThrow(/candidate features/);
  });
  it('small dictionaries: exhausts without repeats, refuses when too small', () => {
    const small: FeatureSet = [{ layer: 0, index: 0 }, { layer: 0, index: 1 }];
    const r = randomFeatureSet(small, () => 4, 1);
    expect(r.map((f) => f.index).sort()).toEqual(r.map((f) => f.index).filter((i) => i >= 2).sort());
    expect(() => randomFeatureSet(small, () => 3, 1)).toThrow(/features left/);
  });
});
