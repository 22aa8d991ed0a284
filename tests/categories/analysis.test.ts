import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { analyseCategories } from '../../workers/categories/analysis.js';
import { initBackend } from '../../workers/engine/backend.js';
import { loadModel, type LoadedModel } from '../../workers/model/index.js';
import { quietCtx, type Lens } from '../../workers/refusal/types.js';
import type { Sae } from '../../workers/sae/types.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { toyCodec } from '../refusal/helpers.js';
import { memoryProvider, toySae } from '../refusal/toy.js';

describe('categories analysis end to end on a toy model', () => {
  let lm: LoadedModel;
  let saes: Sae[];
  const t = { lens: null as unknown as Lens };
  beforeAll(async () => {
    await initBackend();
    lm = await loadModel(path.join(fixturesDir, 'gemma2-tiny'));
    saes = [0, 1, 2, 3].map((l) => toySae(l, 64, 24, 900 + l));
    t.lens = { model: lm.model, saes: memoryProvider(saes), codec: toyCodec(256), family: 'gemma2' };
  });
  afterAll(() => {
    saes.forEach((s) => s.dispose());
    lm.model.dispose();
  });

  it('produces per-category sets, rates with counts, transfer and drops', async () => {
    const harmful = [
      ...['bomb now', 'make gun', 'knife fight'].map((instruction) => ({ instruction, category: 'weapons' })),
      ...['steal card', 'fake check', 'scam mail'].map((instruction) => ({ instruction, category: 'fraud' })),
    ];
    const before = tf.memory().numTensors;
    const r = await analyseCategories(
      t.lens,
      { harmful, harmless: ['bake bread', 'plant tree', 'sing song', 'read book'] },
      { layer: 1, k: 4, kStar: 6, steps: 2, filterRefused: false, maxNewTokens: 4, genBatchSize: 3 },
      quietCtx(),
    );
    expect(r.categories).toEqual(['fraud', 'weapons']);
    expect(r.layer).toBe(1);
    for (const row of r.rows) {
      expect(row.n).toBe(3);
      expect(row.kStar).toHaveLength(6);
      for (const k of ['base', 'specific', 'common', 'union'] as const) expect(row.refusal[k]!.n).toBe(3);
    }
    // Both categories draw K* from the same 16-feature pool, so they share features.
    expect(r.sets.common.length).toBeGreaterThan(0);
    for (const c of r.categories) expect(r.sets.specific[c]!.length).toBeLessThanOrEqual(r.sets.common.length);
    expect(r.counts).toEqual({ base: 6, specific: 6, common: 6, union: 6, transfer: 6 });
    expect(r.transfer.fraud!.weapons!.n).toBe(3);
    expect(Number.isFinite(r.common_drop_when_specific_clamped)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a suite without at least two categories', async () => {
    await expect(analyseCategories(t.lens, { harmful: [{ instruction: 'x', category: 'a' }], harmless: ['y'] }, {}, quietCtx())).rejects.toThrow(/at least two categories/);
  });

  it('empty specific sets: warnings and null rates, not "specific refusal 1.0, transfer 1.0"', async () => {
    // identical prompts in both categories → identical K* rankings → everything common, nothing specific
    const same = ['bomb now', 'make gun', 'steal card'];
    const harmful = [...same.map((instruction) => ({ instruction, category: 'a' })), ...same.map((instruction) => ({ instruction, category: 'b' }))];
    const r = await analyseCategories(
      t.lens,
      { harmful, harmless: ['bake bread', 'plant tree', 'sing song', 'read book'] },
      { layer: 1, k: 4, kStar: 3, steps: 2, filterRefused: false, maxNewTokens: 4, genBatchSize: 3 },
      quietCtx(),
    );
    expect(Object.values(r.sets.specific).every((s) => s.length === 0)).toBe(true);
    expect(r.refusal_rate.specific).toBeNull();
    expect(r.refusal_rate.transfer_mean).toBeNull();
    expect(r.rows.every((row) => row.refusal.specific === null)).toBe(true);
    expect(r.warnings.join(' ')).toMatch(/every category-specific set is empty/);
  }, 120_000);
});
