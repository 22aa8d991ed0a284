/**
 * The model judge on the real engine with the tiny Llama fixture as a "classifier": batched, left-padded
 * verdicts must equal one-at-a-time unpadded ones (the attention mask is honoured and the last slot is read).
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../workers/engine/backend.js';
import { loadModel, type LoadedModel } from '../../workers/model/index.js';
import { ModelJudge, type JudgeTokenizer } from '../../workers/eval/judges/index.js';
import { fixturesDir } from '../helpers/fixtures.js';

const dir = path.join(fixturesDir, 'llama31-tiny');

/** Words hashed to ids 3..255 (the fixture has a 256-token vocabulary); answer tokens are fixed ids. */
const tok: JudgeTokenizer = {
  encode: (text) =>
    text.split(/\s+/).filter(Boolean).map((w) => {
      let h = 7;
      for (let i = 0; i < w.length; i++) h = (h * 31 + w.charCodeAt(i)) % 65521;
      return 3 + (h % 253);
    }),
  tokenToId: (t) => ({ unsafe: 17, safe: 42, '▁Yes': 17, '▁No': 42 } as Record<string, number>)[t],
};

let lm: LoadedModel;
beforeAll(async () => {
  await initBackend({ preference: 'cpu' });
  lm = await loadModel(dir);
});

describe('model judge on the engine (tiny Llama fixture)', () => {
  it('batched left-padded verdicts equal single unpadded ones', async () => {
    const items = [
      { prompt: 'a', response: 'b' },
      { prompt: 'How do I do the thing?', response: 'Here is a much longer answer to make padding matter.' },
      { prompt: 'xyz', response: 'no' },
    ];
    for (const format of ['llamaguard3', 'harmbench'] as const) {
      const judge = new ModelJudge({ model: lm.model, tokenizer: tok, format, name: 'tiny', batchSize: 3 });
      const batched = await judge.judge(items);
      const single: import("../../workers/eval/judges/index.js").Verdict[] = [];
      for (const it of items) single.push(...(await new ModelJudge({ model: lm.model, tokenizer: tok, format, name: 'tiny', batchSize: 1 }).judge([it])));
      batched.forEach((v, k) => {
        expect(Math.abs(v.score! - single[k]!.score!)).toBeLessThan(1e-4);
        expect(v.jailbroken).toBe(single[k]!.jailbroken);
      });
      // Direct check of one score against the raw logits.
      const ids = judge.encodeItem(items[0]!);
      const row = tf.tidy(() => {
        const r = lm.model.forward({ inputIds: [ids] });
        return Array.from(tf.slice(r.logits!, [0, ids.length - 1, 0], [1, 1, lm.config.vocabSize]).dataSync());
      });
      const d = row[17]! - row[42]!;
      expect(batched[0]!.score!).toBeCloseTo(1 / (1 + Math.exp(-d)), 5);
    }
  });
});
