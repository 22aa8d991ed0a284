import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../workers/engine/backend.js';
import { clampEffect, generateWithRetention } from '../../workers/categories/retention.js';
import { loadModel, type LoadedModel } from '../../workers/model/index.js';
import { leftPad } from '../../workers/refusal/batch.js';
import { quietCtx, type EncodedPrompt, type Lens } from '../../workers/refusal/types.js';
import type { Sae } from '../../workers/sae/types.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { toyCodec } from '../refusal/helpers.js';
import { memoryProvider, toySae } from '../refusal/toy.js';

describe('clamping with retention (categories analysis)', () => {
  let lm: LoadedModel;
  let saes: Sae[];
  let lens: Lens;
  // Long enough to decode past Gemma's sliding window (6).
  const prompts: EncodedPrompt[] = [[2, 30, 31, 32, 33], [2, 40, 41], [2, 50, 51, 52, 53, 54, 55]].map((ids, i) => ({ text: `p${i}`, ids }));
  const common = [{ layer: 1, index: 3 }, { layer: 2, index: 7 }, { layer: 3, index: 1 }];
  const specific = [{ layer: 0, index: 5 }, { layer: 1, index: 9 }];
  const opts = { maxNewTokens: 10, batchSize: 3, stopTokens: [] as number[] };

  beforeAll(async () => {
    await initBackend();
    lm = await loadModel(path.join(fixturesDir, 'gemma2-tiny'));
    // Thresholds at zero-ish so the chosen features are active.
    saes = [0, 1, 2, 3].map((l) => toySae(l, 64, 32, 500 + l));
    lens = { model: lm.model, saes: memoryProvider(saes), codec: toyCodec(256), family: 'gemma2' };
  });
  afterAll(() => saes.forEach((s) => s.dispose()));

  async function base(): Promise<number[][]> {
    const r = await lm.model.generate(leftPad(prompts.map((p) => p.ids), 0), { maxNewTokens: 10, stopTokens: [] });
    return r.newTokens;
  }

  it('retaining the common set with nothing clamped reproduces the base generations exactly', async () => {
    const expected = await base();
    const before = tf.memory().numTensors;
    for (const retention of ['exact', 'prompt-only'] as const) {
      const g = await generateWithRetention(lens, prompts, { clamp: [], edit: { mode: 'multiply', c: -3 }, retain: common, retention }, opts, quietCtx());
      expect(g.map((x) => x.tokens), retention).toEqual(expected);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('prompt-mean retention (W16) leaves the prompt pass unchanged and edits decoding', async () => {
    const expected = await base();
    const g = await generateWithRetention(lens, prompts, { clamp: [], edit: { mode: 'multiply', c: -3 }, retain: common, retention: 'prompt-mean' }, opts, quietCtx());
    expect(g.map((x) => x.tokens[0])).toEqual(expected.map((t) => t[0]));
    expect(g.map((x) => x.tokens)).not.toEqual(expected);
  });

  it('clamping the specific set changes generation; retention runs alongside it', async () => {
    const expected = await base();
    const clamped = await generateWithRetention(lens, prompts, { clamp: specific, edit: { mode: 'multiply', c: -40 }, retain: [] }, opts, quietCtx());
    expect(clamped.map((x) => x.tokens)).not.toEqual(expected);
    const retained = await generateWithRetention(lens, prompts, { clamp: specific, edit: { mode: 'multiply', c: -40 }, retain: common }, opts, quietCtx());
    expect(retained).toHaveLength(3);
    await expect(generateWithRetention(lens, prompts, { clamp: common, edit: { mode: 'multiply', c: -3 }, retain: common }, opts, quietCtx())).rejects.toThrow(/both clamped and retained/);
  });

  it('clampEffect: clamping upstream features moves downstream activations; identity clamp moves nothing', async () => {
    const none = await clampEffect(lens, prompts, specific, { mode: 'multiply', c: 1 }, common);
    expect(none.drop).toBeCloseTo(0, 6);
    expect(none.pRefusalClamped).toBeCloseTo(none.pRefusalBase, 6);
    const eff = await clampEffect(lens, prompts, specific, { mode: 'multiply', c: -40 }, common);
    expect(eff.baseMean).toBeGreaterThan(0);
    expect(Math.abs(eff.drop)).toBeGreaterThan(1e-3);
    expect(eff.pRefusalClamped).not.toBeCloseTo(eff.pRefusalBase, 6);
  });
});
