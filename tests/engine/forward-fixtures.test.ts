import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../workers/engine/backend.js';
import { hookNames, loadModel, type LoadedModel } from '../../workers/model/index.js';
import { fixturesDir, maxAbsDiff, readBin, readJson } from '../helpers/fixtures.js';

interface Case { name: string; input_ids: number[][]; attention_mask: number[][]; position_ids: number[][] }
interface ArrRef { file: string; shape: number[] }
interface GenCase { name: string; prompt_input_ids: number[][]; prompt_attention_mask: number[][]; prompt_position_ids: number[][]; new_tokens: number[][] }

const TOL = 5e-4;

for (const fixture of ['gemma2-tiny', 'llama31-tiny']) {
  describe(`forward matches HF: ${fixture}`, () => {
    const dir = path.join(fixturesDir, fixture);
    let lm: LoadedModel;
    beforeAll(async () => {
      await initBackend();
      lm = await loadModel(dir);
    });
    const inputs = readJson<{ cases: Case[] }>(path.join(dir, 'inputs.json'));
    const expected = readJson<{ cases: Record<string, Record<string, ArrRef>> }>(path.join(dir, 'expected.json'));

    for (const c of inputs.cases) {
      it(`case ${c.name}`, () => {
        const exp = expected.cases[c.name]!;
        const L = lm.config.nLayers;
        const B = c.input_ids.length;
        const T = c.input_ids[0]!.length;
        const valid = (row: number, width: number) => (i: number) => {
          const bt = Math.floor(i / width) % (B * T);
          return c.attention_mask[Math.floor(bt / T)]![bt % T] === 1 && row >= 0;
        };
        const before = tf.memory().numTensors;
        const points = [hookNames.embed, ...Array.from({ length: L }, (_, l) => hookNames.residPost(l)), hookNames.lnFinal];
        const out = lm.model.forward(
          { inputIds: c.input_ids, attentionMask: c.attention_mask, positionIds: c.position_ids },
          { cache: points },
        );
        const logits = out.logits!.dataSync();
        const V = lm.config.vocabSize;
        const d = lm.config.dModel;
        expect(maxAbsDiff(logits, readBin(path.join(dir, exp.logits!.file)), valid(0, V))).toBeLessThan(TOL);
        if (exp.embeddings) {
          expect(maxAbsDiff(out.cache.get(hookNames.embed)!.dataSync(), readBin(path.join(dir, exp.embeddings.file)), valid(0, d))).toBeLessThan(TOL);
          expect(maxAbsDiff(out.cache.get(hookNames.lnFinal)!.dataSync(), readBin(path.join(dir, exp.final_norm!.file)), valid(0, d))).toBeLessThan(TOL);
          const resid = readBin(path.join(dir, exp.resid_post!.file));
          for (let l = 0; l < L; l++) {
            const mine = out.cache.get(hookNames.residPost(l))!.dataSync();
            const ref = resid.subarray(l * B * T * d, (l + 1) * B * T * d);
            expect(maxAbsDiff(mine, ref, valid(0, d)), `layer ${l}`).toBeLessThan(TOL);
          }
        }
        out.logits!.dispose();
        for (const t of out.cache.values()) t.dispose();
        expect(tf.memory().numTensors).toBe(before);
      });
    }

    const gen = readJson<{ cases: GenCase[] }>(path.join(dir, 'generation.json'));
    for (const g of gen.cases) {
      it(`greedy generation with KV cache: ${g.name}`, async () => {
        const before = tf.memory().numTensors;
        const r = await lm.model.generate(
          { inputIds: g.prompt_input_ids, attentionMask: g.prompt_attention_mask, positionIds: g.prompt_position_ids },
          { maxNewTokens: g.new_tokens[0]!.length, stopTokens: [] },
        );
        expect(r.newTokens).toEqual(g.new_tokens);
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  });
}
