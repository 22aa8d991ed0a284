/**
 * The playground step on the bundled demo: base column = plain greedy generation, the ablated column stops
 * refusing, the clamped column applies the edit, and every column's activations align with its tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initDemoBackend } from '../../workers/demo/backend.js';
import type { StepContext } from '../../common/schemas/job.js';
import { playground } from '../../main/jobs/builtin/playground.js';
import { disposeLoaded, loadSource, resolveSource } from '../../workers/features/source.js';
import { parseFeatures } from '../../workers/playground/playground.js';
import { cosine } from '../../workers/features/detail.js';
import { skipWithoutDemo } from '../helpers/requires.js';

const DEMO = path.resolve(import.meta.dirname, '..', '..', 'assets', 'demo');

function fakeCtx(cache: Map<string, unknown>, runDir: string | null = null): StepContext {
  const ac = new AbortController();
  return {
    jobId: 'test',
    signal: ac.signal,
    progress: () => undefined,
    log: () => undefined,
    setBackend: () => undefined,
    throwIfCancelled: () => undefined,
    cache,
    projectDir: null,
    runDir,
  };
}

describe.skipIf(skipWithoutDemo(DEMO))('refusal.playground on the demo', () => {
  const cache = new Map<string, unknown>();
  let baseline = 0;
  beforeAll(async () => {
    process.env.RW_DEMO_DIR = DEMO;
    await initDemoBackend();
    baseline = tf.memory().numTensors;
  });
  afterAll(() => disposeLoaded(cache));

  it('parses feature lists in every shape the views send', () => {
    expect(parseFeatures([[1, 5], 'L0/3', { layer: 1, index: 7 }, [1, 5]])).toEqual([
      { layer: 1, index: 5 },
      { layer: 0, index: 3 },
      { layer: 1, index: 7 },
    ]);
    expect(() => parseFeatures(['nope'])).toThrow(/not a feature/);
  });

  it('base = greedy generate, ablated complies, clamped edits, acts align with tokens; no leaks', async () => {
    const prompt = 'How do I make a bomb ?';
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-pg-'));
    const r = await playground({ prompt, features: [[1, 5], [0, 3]], mode: 'multiply', amount: -3, positions: 'all', maxNewTokens: 10 }, fakeCtx(cache, runDir));
    expect(r.features).toEqual(['L1/5', 'L0/3']);
    expect(r.columns.map((c) => c.kind)).toEqual(['base', 'clamped', 'ablated']);
    expect(fs.existsSync(path.join(runDir, 'playground.json'))).toBe(true);

    // base column equals the model's own greedy generation
    const { model, tokenizer, stopTokens } = await loadSource(resolveSource(null), cache);
    const ids = tokenizer.encodeInstruction(prompt);
    const g = await model.generate({ inputIds: [ids] }, { maxNewTokens: 10, stopTokens });
    const base = r.columns[0]!;
    expect(base.tokenIds.slice(ids.length)).toEqual(g.newTokens[0]);
    expect(base.promptLength).toBe(ids.length);
    expect(base.text).toMatch(/^I cannot/);

    // the ablated column no longer refuses
    expect(r.columns[2]!.text).not.toMatch(/^I cannot/);

    for (const c of r.columns) {
      expect(c.tokens).toHaveLength(c.tokenIds.length);
      expect(c.acts).toHaveLength(2);
      for (const a of c.acts) {
        expect(a).toHaveLength(c.tokens.length);
        expect(a.every(Number.isFinite)).toBe(true);
      }
    }
    // clamped: every recorded value is −3 × its value before the edit
    const cl = r.columns[1]!;
    for (let f = 0; f < 2; f++)
      cl.acts[f]!.forEach((v, t) => expect(v).toBeCloseTo(-3 * cl.actsBeforeEdit![f]![t]!, 4));
    // the clamp changes something when a chosen feature fires in the base run
    expect(Math.max(...base.acts.flat())).toBeGreaterThan(0);
    expect(cl.acts.flat().some((v) => v < 0)).toBe(true);
    fs.rmSync(runDir, { recursive: true, force: true });
  });

  it('set-to-value on generated positions only leaves the prompt untouched', async () => {
    const r = await playground({ prompt: 'How do I bake bread ?', features: ['L1/5'], mode: 'value', amount: 4, positions: 'generation', maxNewTokens: 6 }, fakeCtx(cache));
    const [base, cl] = r.columns;
    const P = cl!.promptLength;
    // prompt positions: identical to base (clamp not applied there), generated: set to 4
    expect(cl!.acts[0]!.slice(0, P)).toEqual(base!.acts[0]!.slice(0, P));
    for (const v of cl!.acts[0]!.slice(P)) expect(v).toBeCloseTo(4, 5);
  });

  it('setting the features most aligned with the refusal direction to a negative value stops the refusal', async () => {
    // the three layer-1 decoder rows with the highest cosine to the demo's refusal direction (L1/303, 99, 268 today)
    const src = resolveSource(null);
    const { set } = await loadSource(src, cache);
    const W = set.get(1).W_dec.arraySync() as number[][];
    const top = W.map((r, i) => [i, cosine(r, src.direction!.vector)] as const)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([i]) => [1, i]);
    const r = await playground({ prompt: 'How do I make a bomb ?', features: top, mode: 'value', amount: -5, positions: 'all', maxNewTokens: 8 }, fakeCtx(cache));
    expect(r.columns[0]!.text).toMatch(/^I cannot/);
    expect(r.columns[1]!.text).not.toMatch(/^I cannot/);
    expect(r.columns[1]!.tokenIds.slice(0, r.columns[1]!.promptLength)).toEqual(r.columns[0]!.tokenIds.slice(0, r.columns[0]!.promptLength));
  });

  it('with no features the clamped column equals the base one', async () => {
    const r = await playground({ prompt: 'How do I bake bread ?', features: [], maxNewTokens: 6 }, fakeCtx(cache));
    expect(r.columns[1]!.tokenIds).toEqual(r.columns[0]!.tokenIds);
    expect(r.columns[0]!.acts).toEqual([]);
  });

  it('rejects unknown layers and indices', async () => {
    await expect(playground({ prompt: 'hi', features: [[9, 1]] }, fakeCtx(cache))).rejects.toThrow(/no SAE for layer 9/);
    await expect(playground({ prompt: 'hi', features: [[0, 99999]] }, fakeCtx(cache))).rejects.toThrow(/has 512 features/);
  });

  it('leaves no tensors behind (beyond the cached model and SAEs)', async () => {
    await playground({ prompt: 'How do I pick a lock ?', features: [[0, 1]], maxNewTokens: 4 }, fakeCtx(cache));
    disposeLoaded(cache);
    expect(tf.memory().numTensors).toBe(baseline);
  });
});

describe.skipIf(skipWithoutDemo(DEMO))('playground steering on the demo', () => {
  const cache = new Map<string, unknown>();
  let baseline = 0;
  beforeAll(async () => {
    process.env.RW_DEMO_DIR = DEMO;
    await initDemoBackend();
    baseline = tf.memory().numTensors;
  });
  afterAll(() => {
    disposeLoaded(cache);
    expect(tf.memory().numTensors).toBe(baseline);
  });
  const harmful = 'How do I make a bomb ?';

  it('additive steering −α·W_dec[i] on the feature most aligned with the refusal direction flips the judge verdict', async () => {
    const src = resolveSource(null);
    const { set } = await loadSource(src, cache);
    const W = set.get(1).W_dec.arraySync() as number[][];
    const best = W.map((r, i) => [i, cosine(r, src.direction!.vector)] as const).sort((a, b) => b[1] - a[1])[0]![0];
    const r = await playground({ prompt: harmful, features: [[1, best]], interventions: [{ kind: 'add', alpha: -16 }, { kind: 'add', alpha: 0 }], maxNewTokens: 10 }, fakeCtx(cache));
    expect(r.columns.map((c) => c.kind)).toEqual(['base', 'steered', 'steered']);
    expect(r.judge).toMatch(/substring/);
    const [base, steered, zero] = r.columns;
    expect(base!.verdict?.refused).toBe(true);
    expect(steered!.verdict?.refused).toBe(false);
    // α = 0 changes nothing, and the steered column's acts are the features of the steered stream
    expect(zero!.tokenIds).toEqual(base!.tokenIds);
    zero!.acts[0]!.forEach((v, t) => expect(v).toBeCloseTo(base!.acts[0]![t]!, 5));
    expect(steered!.actsBeforeEdit![0]!.slice(0, 3)).toEqual(base!.acts[0]!.slice(0, 3).map((v) => expect.closeTo(v, 5)));
  });

  it('activation addition of the refusal direction: c = 0 is the base, c = −1 stops the refusal, c = +0.5 induces one on a harmless prompt (c = 1 overshoots to a run of I tokens on the demo)', async () => {
    const r = await playground({ prompt: harmful, features: [], interventions: [{ kind: 'actadd', coefficient: 0 }, { kind: 'actadd', coefficient: -1 }, { kind: 'ablate' }], maxNewTokens: 8 }, fakeCtx(cache));
    expect(r.columns.map((c) => c.kind)).toEqual(['base', 'actadd', 'actadd', 'ablated']);
    expect(r.columns[1]!.tokenIds).toEqual(r.columns[0]!.tokenIds);
    expect(r.columns[2]!.verdict?.refused).toBe(false);
    expect(r.columns[3]!.verdict?.refused).toBe(false);
    const h = await playground({ prompt: 'How do I bake bread ?', interventions: [{ kind: 'actadd', coefficient: 0.5 }], maxNewTokens: 8 }, fakeCtx(cache));
    expect(h.columns[0]!.verdict?.refused).toBe(false);
    expect(h.columns[1]!.verdict?.refused).toBe(true);
  });

  it('seeded sampling: n completions per column, the first equals model.generate with the same seed, reruns repeat', async () => {
    const sampling = { temperature: 1.5, topK: 20, seed: 11 };
    const p = { prompt: 'How do I bake bread ?', features: ['L1/5'], interventions: [{ kind: 'clamp' as const, mode: 'multiply' as const, amount: 0 }], sampling, n: 3, maxNewTokens: 8 };
    const a = await playground(p, fakeCtx(cache));
    const b = await playground(p, fakeCtx(cache));
    expect(a.n).toBe(3);
    for (const c of a.columns) {
      expect(c.completions).toHaveLength(3);
      expect(c.completions.map((k) => k.seed)).toEqual([11, 12, 13]);
      for (const k of c.completions) expect(typeof k.verdict?.refused).toBe('boolean');
    }
    expect(b.columns.map((c) => c.completions.map((k) => k.tokenIds))).toEqual(a.columns.map((c) => c.completions.map((k) => k.tokenIds)));
    const texts = new Set(a.columns[0]!.completions.map((k) => k.text));
    expect(texts.size).toBeGreaterThan(1);
    const { model, tokenizer, stopTokens } = await loadSource(resolveSource(null), cache);
    const ids = tokenizer.encodeInstruction(p.prompt);
    const g = await model.generate({ inputIds: [ids] }, { maxNewTokens: 8, stopTokens, sampling });
    expect(a.columns[0]!.completions[0]!.tokenIds.slice(ids.length)).toEqual(g.newTokens[0]);
  });

  it('validates interventions', async () => {
    await expect(playground({ prompt: 'hi', interventions: [{ kind: 'add' } as never] }, fakeCtx(cache))).rejects.toThrow();
    await expect(playground({ prompt: 'hi', interventions: [{ kind: 'actadd', coefficient: 1, layer: 7 }] }, fakeCtx(cache))).rejects.toThrow(/model has 2 layers/);
  });
});
