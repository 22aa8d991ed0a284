import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../workers/engine/backend.js';
import { hookNames, leftPad, loadModel, type Hooks, type LoadedModel } from '../../workers/model/index.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { greedyRecompute } from '../helpers/recompute.js';

/** Greedy decoding by full recompute at every step (no cache): the ground truth for the cache. */
function recompute(lm: LoadedModel, prompts: number[][], n: number, hooks: Hooks): number[][] {
  return greedyRecompute(lm.model, prompts, n, hooks);
}

for (const fixture of ['gemma2-tiny', 'llama31-tiny']) {
  describe(`KV-cache generation with hooks equals full recompute: ${fixture}`, () => {
    let lm: LoadedModel;
    let steer: tf.Tensor1D;
    beforeAll(async () => {
      await initBackend();
      lm = await loadModel(path.join(fixturesDir, fixture));
      steer = tf.keep(tf.mul(tf.randomNormal([lm.config.dModel], 0, 1, 'float32', 7), 3) as tf.Tensor1D);
    });
    // Prompts straddle the Gemma sliding window (6) so local layers must drop old keys while decoding.
    const prompts = [[2, 40, 41, 42, 43, 44, 45, 46, 47], [2, 50, 51], [2, 60, 61, 62, 63, 64]];

    it('a steering hook stays applied on every decoding step', async () => {
      const hooks: Hooks = [{ point: hookNames.residPost(1), fn: (x) => tf.add(x, steer) as tf.Tensor3D }];
      const before = tf.memory().numTensors;
      const cached = await lm.model.generate(leftPad(prompts, 0), { maxNewTokens: 10, hooks, stopTokens: [] });
      expect(tf.memory().numTensors).toBe(before);
      expect(cached.newTokens).toEqual(recompute(lm, prompts, 10, hooks));
      const plain = await lm.model.generate(leftPad(prompts, 0), { maxNewTokens: 10, stopTokens: [] });
      expect(plain.newTokens).not.toEqual(cached.newTokens);
    });

    it('hooks see the prompt pass then one position per step', async () => {
      const seen: { step: number; offset: number; T: number; promptLength: number }[] = [];
      const hooks: Hooks = [{ point: hookNames.residPre(0), fn: (x, ctx) => void seen.push({ step: ctx.step, offset: ctx.offset, T: x.shape[1], promptLength: ctx.promptLength }) }];
      await lm.model.generate(leftPad(prompts, 0), { maxNewTokens: 3, hooks, stopTokens: [] });
      expect(seen).toEqual([
        { step: -1, offset: 0, T: 9, promptLength: 9 },
        { step: 0, offset: 9, T: 1, promptLength: 9 },
        { step: 1, offset: 10, T: 1, promptLength: 9 },
      ]);
    });

    it('seeded sampling is reproducible and stops at stop tokens', async () => {
      const opts = { maxNewTokens: 12, sampling: { temperature: 1.0, seed: 42 }, stopTokens: [] };
      const a = await lm.model.generate(leftPad(prompts, 0), opts);
      const b = await lm.model.generate(leftPad(prompts, 0), opts);
      expect(a.newTokens).toEqual(b.newTokens);
      const stopAt = a.newTokens[0]![3]!;
      const c = await lm.model.generate(leftPad(prompts, 0), { ...opts, stopTokens: [stopAt] });
      const first = a.newTokens[0]!.indexOf(stopAt);
      expect(c.newTokens[0]).toEqual(a.newTokens[0]!.slice(0, first + 1));
      expect(c.stopped[0]).toBe(true);
    });
  });
}
