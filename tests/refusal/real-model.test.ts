/** The steps on the real Gemma-2 port (the tiny HF fixture) with random JumpReLU SAEs at every layer. */
import path from 'node:path';
import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { loadModel } from '../../workers/model/index.js';
import { laIg } from '../../workers/refusal/attribution.js';
import { refusalDirection } from '../../workers/refusal/direction.js';
import { cosinePool } from '../../workers/refusal/pool.js';
import { selectFeatures } from '../../workers/refusal/selection.js';
import { generateUnder } from '../../workers/refusal/generate.js';
import { quietCtx, type Lens } from '../../workers/refusal/types.js';
import { memoryProvider, toySae } from './toy.js';
import { toyCodec, useCpu } from './helpers.js';
import { fixturesDir } from '../helpers/fixtures.js';

const FIX = path.join(fixturesDir, 'gemma2-tiny');

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num = Math.max(num, Math.abs(a[i] - b[i])); den = Math.max(den, Math.abs(b[i])); }
  return num / Math.max(den, 1e-12);
}

describe('refusal steps on the gemma2-tiny fixture', () => {
  beforeAll(useCpu);
  it('S2 = literal and S1 = literal on the real Transformer', async () => {
    const { model } = await loadModel(FIX);
    const L = model.config.nLayers, d = model.config.dModel;
    const saes = Array.from({ length: L }, (_, l) => toySae(l, d, 48, 300 + l));
    const lens: Lens = { model, saes: memoryProvider(saes), codec: toyCodec(200), family: 'gemma2' };
    const mk = (xs: string[]) => xs.map((t) => ({ text: t, ids: lens.codec.encodePrompt(t) }));
    const H = mk(['abc def', 'hello there friend', 'zz top', 'q']);
    const S = mk(['lorem ipsum', 'sit amet', 'dolor', 'consectetur x']);
    const dir = (await refusalDirection(lens, { harmful: H, harmless: S })).directions[2];
    const { pool } = await cosinePool(lens, { direction: dir, k: 8, kStar: 6 }, quietCtx());
    const base = { prompts: H, direction: dir, steps: 3, pool, batchSize: 4, fullWidth: true };
    const n0 = tf.memory().numTensors;
    const a = await laIg(lens, { ...base, path: 'shortcut' }, quietCtx());
    expect(tf.memory().numTensors).toBe(n0);
    const b = await laIg(lens, { ...base, path: 'literal' }, quietCtx());
    for (let s = 0; s < H.length; s++) for (let l = 0; l < L; l++)
      expect(relErr(a.samples[s].poolAttr[l], b.samples[s].poolAttr[l])).toBeLessThan(1e-4);
    const sa = selectFeatures(a, { kStar: 6, skipPrefix: 1 });
    expect(sa.local.sets).toEqual(selectFeatures(b, { kStar: 6, skipPrefix: 1 }).local.sets);
    const cond = (path: 'sparse' | 'literal') => ({ kind: 'clamp' as const, sets: sa.local, edit: { mode: 'multiply' as const, c: -3 }, path });
    const g1 = await generateUnder(lens, { prompts: H, condition: cond('sparse'), maxNewTokens: 6 }, quietCtx());
    const g2 = await generateUnder(lens, { prompts: H, condition: cond('literal'), maxNewTokens: 6 }, quietCtx());
    expect(g1.map((g) => g.tokens)).toEqual(g2.map((g) => g.tokens));
    expect(tf.memory().numTensors).toBe(n0);
    model.dispose();
    saes.forEach((s) => s.dispose());
  });
});
