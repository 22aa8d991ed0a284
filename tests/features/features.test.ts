/**
 * features.detail and sae.preflight on the bundled demo, called directly with a fake StepContext.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initDemoBackend } from '../../workers/demo/backend.js';
import type { StepContext } from '../../common/schemas/job.js';
import { detail } from '../../main/jobs/builtin/features.js';
import { preflight } from '../../main/jobs/builtin/preflight.js';
import { disposeLoaded, loadSource, resolveSource } from '../../workers/features/source.js';
import { cosine, histogram, unembedScores } from '../../workers/features/detail.js';
import { SafetensorsFile } from '../../workers/engine/io/safetensors.js';
import { skipWithoutDemo } from '../helpers/requires.js';

const DEMO = path.resolve(import.meta.dirname, '..', '..', 'assets', 'demo');

function fakeCtx(cache: Map<string, unknown>, projectDir: string | null = null, runDir: string | null = null): StepContext {
  return {
    jobId: 'test',
    signal: new AbortController().signal,
    progress: () => undefined,
    log: () => undefined,
    setBackend: () => undefined,
    throwIfCancelled: () => undefined,
    cache,
    projectDir,
    runDir,
  };
}

describe('feature helpers', () => {
  it('histogram: zeros counted apart, bins cover the nonzero values', () => {
    const h = histogram([0.5, 1, 1.5, 2], 10, 4);
    expect(h.zeroCount).toBe(6);
    expect(h.counts.reduce((a, b) => a + b, 0) + h.zeroCount).toBe(10);
    expect(h.edges).toHaveLength(5);
    expect(h.edges[0]).toBe(0);
    expect(h.edges[4]).toBeCloseTo(2);
    expect(histogram([], 3, 4)).toMatchObject({ edges: [], counts: [], zeroCount: 3, fractionZero: 1 });
  });
  it('cosine is clamped to [-1, 1]', () => {
    expect(cosine([1, 0], [2, 0])).toBeCloseTo(1);
    expect(cosine([1, 0], [-1, 0])).toBeCloseTo(-1);
    expect(cosine([1, 0], [0, 1])).toBeCloseTo(0);
  });
});

describe.skipIf(skipWithoutDemo(DEMO))('features.detail and sae.preflight on the demo', () => {
  const cache = new Map<string, unknown>();
  let baseline = 0;
  let project = '';
  beforeAll(async () => {
    process.env.RW_DEMO_DIR = DEMO;
    await initDemoBackend();
    baseline = tf.memory().numTensors;
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-feat-'));
  });
  afterAll(() => {
    disposeLoaded(cache);
    fs.rmSync(project, { recursive: true, force: true });
  });

  it('feature detail: consistent numbers, sorted contexts, logit lens = W_dec[i]·W_U, cached per feature', async () => {
    const runDir = path.join(project, 'runs', 'job1');
    fs.mkdirSync(runDir, { recursive: true });
    const d = await detail({ layer: 1, index: 5, perSuite: 16, attributionPerSuite: 4, attributionSteps: 4 }, fakeCtx(cache, project, runDir));
    expect(d.id).toBe('L1/5');
    expect(d.cached).toBe(false);
    expect(d.cosine).toBeGreaterThanOrEqual(-1);
    expect(d.cosine).toBeLessThanOrEqual(1);
    expect(d.stats.prompts).toBe(64);
    // histogram counts (plus the zeros) = the tokens seen = the tokens over the suites
    expect(d.histogram.counts.reduce((a, b) => a + b, 0) + d.histogram.zeroCount).toBe(d.stats.tokens);
    expect(d.activationBySuite.reduce((a, s) => a + s.tokens, 0)).toBe(d.stats.tokens);
    expect(d.activationBySuite).toHaveLength(4);
    expect(d.histogram.edges).toHaveLength(d.histogram.counts.length + 1);
    // contexts: sorted by their max, tokens and acts aligned, max where it says
    expect(d.contexts.length).toBeGreaterThan(0);
    for (let i = 1; i < d.contexts.length; i++) expect(d.contexts[i - 1]!.max).toBeGreaterThanOrEqual(d.contexts[i]!.max);
    for (const c of d.contexts) {
      expect(c.acts).toHaveLength(c.tokens.length);
      expect(c.acts[c.maxIndex]).toBe(c.max);
      expect(c.tokens[0]).not.toBe('<bos>');
    }
    expect(d.contexts[0]!.max).toBeCloseTo(d.stats.maxActivation, 6);
    // logit lens: promoted descending, suppressed ascending, and equal to the decoder row · W_U
    const lp = d.logitLens.promoted.map((t) => t.value);
    const ls = d.logitLens.suppressed.map((t) => t.value);
    expect(lp).toHaveLength(10);
    expect([...lp].sort((a, b) => b - a)).toEqual(lp);
    expect([...ls].sort((a, b) => a - b)).toEqual(ls);
    expect(lp[0]!).toBeGreaterThan(ls[0]!);
    const { set, tokenizer } = await loadSource(resolveSource(null), cache);
    const rowT = set.get(1).W_dec.slice([5, 0], [1, -1]);
    const row = (rowT.dataSync() as Float32Array).slice();
    rowT.dispose();
    const st = SafetensorsFile.open(path.join(DEMO, 'model', 'model.safetensors'));
    const W = st.readFloat32('model.embed_tokens.weight');
    st.close();
    const dm = row.length;
    const top = tokenizer.tokenToId(d.logitLens.promoted[0]!.token)!;
    let dot = 0;
    for (let i = 0; i < dm; i++) dot += W[top * dm + i]! * row[i]!;
    expect(d.logitLens.promoted[0]!.value).toBeCloseTo(dot, 4);
    expect(unembedScores(path.join(DEMO, 'model'), row, 1000)[top]).toBeCloseTo(dot, 4); // small chunks, same answer
    // cosine with the demo direction
    const dir = JSON.parse(fs.readFileSync(path.join(DEMO, 'refusal_direction.json'), 'utf8')).direction as number[];
    expect(d.cosine).toBeCloseTo(cosine(row, dir), 5);
    // attribution across suites: one finite value per suite, over the prompts asked for
    expect(d.attributionBySuite!.map((a) => a.suite).sort()).toEqual(d.activationBySuite.map((a) => a.suite).sort());
    for (const a of d.attributionBySuite!) expect(Number.isFinite(a.value)).toBe(true);

    // cached in the run folder; a second job reads it back
    const file = path.join(runDir, 'feature-L1-5.json');
    const stored = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(stored.features['L1/5'].histogram).toEqual(d.histogram);
    const again = await detail({ layer: 1, index: 5, perSuite: 16, attributionPerSuite: 4, attributionSteps: 4 }, fakeCtx(cache, project, null));
    expect(again.cached).toBe(true);
    expect(again.contexts).toEqual(d.contexts);
    // another sample size is another cache entry
    const other = await detail({ layer: 1, index: 5, perSuite: 4, attributionPerSuite: 0 }, fakeCtx(cache, project, null));
    expect(other.attributionBySuite).toBeUndefined();
    expect(other.cached).toBe(false);
    expect(other.stats.prompts).toBe(16);
  });

  it('feature detail rejects features the SAEs do not have', async () => {
    await expect(detail({ layer: 7, index: 0 }, fakeCtx(cache))).rejects.toThrow(/no SAE for layer 7/);
    await expect(detail({ layer: 0, index: 512 }, fakeCtx(cache))).rejects.toThrow(/has 512 features/);
  });

  it('preflight: sizes, budget and fit statistics; FVE and CE recovered ≥ 0.9 as the demo README says', async () => {
    const runDir = path.join(project, 'runs', 'job2');
    fs.mkdirSync(runDir, { recursive: true });
    const r = await preflight({ perSuite: 4 }, fakeCtx(cache, project, runDir));
    expect(r.saes.map((s) => s.layer)).toEqual([0, 1]);
    expect(r.budgetBytes).toBeGreaterThan(0);
    expect(r.modelBytes).toBeGreaterThan(0);
    expect(r.prompts).toBe(16);
    for (const s of r.saes) {
      expect(s.dSae).toBe(512);
      expect(s.bytes).toBeGreaterThan(64 * 512 * 2 * 4);
      expect(s.fits).toBe(true);
      expect(s.fve!).toBeGreaterThanOrEqual(0.9);
      expect(s.ceRecovered!).toBeGreaterThanOrEqual(0.9);
      expect(s.ceRecoveredResponse!).toBeGreaterThanOrEqual(0.9);
      expect(s.meanL0!).toBeGreaterThan(1);
      expect(s.deadFraction!).toBeGreaterThanOrEqual(0);
      expect(s.deadFraction!).toBeLessThan(1);
    }
    expect(fs.existsSync(path.join(runDir, 'preflight.json'))).toBe(true);
    // explicit folders: the same SAEs
    const r2 = await preflight({ folders: [path.join(DEMO, 'saes')], perSuite: 0 }, fakeCtx(cache));
    expect(r2.saes.map((s) => [s.layer, s.bytes])).toEqual(r.saes.map((s) => [s.layer, s.bytes]));
    expect(r2.saes[0]!.fit).toBeNull();
  });

  it('leaves no tensors behind once the cached model is freed', async () => {
    await detail({ layer: 0, index: 3, perSuite: 2, attributionPerSuite: 2, attributionSteps: 2, fresh: true }, fakeCtx(cache));
    await preflight({ perSuite: 1 }, fakeCtx(cache));
    disposeLoaded(cache);
    expect(tf.memory().numTensors).toBe(baseline);
  });
});
