/**
 * The feature-dashboard scan on the bundled demo, checked against direct computations: the top examples are
 * the sequences with the largest max activation (full-SAE encode of every sequence), quantile-group examples
 * lie in their interval, density counts nonzero tokens, logit effects equal (W_dec[i] ⊙ (1 + w_norm)) · W_Uᵀ
 * computed from the safetensors with one matmul, neighbours are the decoder-cosine argmax, co-activation counts
 * tokens where both fire. No tensors leak.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initDemoBackend } from '../../workers/demo/backend.js';
import type { StepContext } from '../../common/schemas/job.js';
import { dashboard, DASHBOARD_FEATURE_KIND, DASHBOARD_INDEX_KIND } from '../../main/jobs/builtin/dashboard.js';
import { disposeLoaded, loadSource, resolveSource } from '../../workers/features/source.js';
import { buildCorpus, readCorpus, builtinSuites } from '../../workers/features/corpus.js';
import { hookNames } from '../../workers/model/types.js';
import { leftPad } from '../../workers/refusal/batch.js';
import { deriveSkipPrefix } from '../../workers/refusal/lens.js';
import { SafetensorsFile, toFloat32 } from '../../workers/engine/io/safetensors.js';
import type { FeatureDashboard } from '../../workers/features/dashboard.js';

const DEMO = path.resolve(import.meta.dirname, '..', '..', 'assets', 'demo');
const haveDemo = fs.existsSync(path.join(DEMO, 'saes')) && fs.existsSync(path.join(DEMO, 'model', 'model.safetensors'));

function fakeCtx(cache: Map<string, unknown>, runDir: string | null): StepContext {
  const ac = new AbortController();
  return { jobId: 'test', signal: ac.signal, progress: () => undefined, log: () => undefined, setBackend: () => undefined, throwIfCancelled: () => undefined, cache, projectDir: null, runDir };
}

function readTensor(file: string, name: string): { data: Float32Array; shape: number[] } {
  const st = SafetensorsFile.open(file);
  try {
    const info = st.info(name);
    const buf = Buffer.alloc(info.end - info.begin);
    const fd = fs.openSync(file, 'r');
    fs.readSync(fd, buf, 0, buf.length, info.begin);
    fs.closeSync(fd);
    return { data: toFloat32(buf, info.dtype), shape: info.shape };
  } finally {
    st.close();
  }
}

describe.skipIf(!haveDemo)('features.dashboard on the demo', () => {
  const cache = new Map<string, unknown>();
  let runDir = '';
  let feats: FeatureDashboard[] = [];
  let baseline = 0;
  const FEATURES = ['L1/5', 'L0/3', 'L1/7'];
  const REFERENCE = ['L1/5', 'L0/3', 'L1/9'];
  const params = { features: FEATURES, reference: REFERENCE, corpus: ['demo-harmful', 'demo-harmless'], perSource: 24, responseTokens: 8, topExamples: 5, quantiles: 4, perQuantile: 2, batchSize: 8 };

  beforeAll(async () => {
    process.env.RW_DEMO_DIR = DEMO;
    await initDemoBackend();
    runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-dash-'));
    // load once so the model's own tensors are in the baseline
    await loadSource(resolveSource(null), cache);
    baseline = tf.memory().numTensors;
    const r = await dashboard(params, fakeCtx(cache, runDir));
    expect(r.features).toEqual(FEATURES);
    const index = JSON.parse(fs.readFileSync(path.join(runDir, 'dashboard', 'index.json'), 'utf8'));
    expect(index.kind).toBe(DASHBOARD_INDEX_KIND);
    expect(index.features.map((f: { id: string }) => f.id)).toEqual(FEATURES);
    feats = index.features.map((f: { file: string }) => {
      const j = JSON.parse(fs.readFileSync(path.join(runDir, f.file), 'utf8'));
      expect(j.kind).toBe(DASHBOARD_FEATURE_KIND);
      return j.feature as FeatureDashboard;
    });
  }, 120_000);
  afterAll(() => {
    disposeLoaded(cache);
    fs.rmSync(runDir, { recursive: true, force: true });
  });

  it('leaks no tensors', () => {
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('top examples, quantile groups, density and co-activation equal a direct full-SAE computation', async () => {
    const src = resolveSource(null);
    const { model, tokenizer, set, stopTokens } = await loadSource(src, cache);
    const prompts = readCorpus(params.corpus, process.cwd(), src.suites, { perSource: params.perSource, seed: 0 });
    const corpus = await buildCorpus(model, prompts, (t) => tokenizer.encodeInstruction(t), { maxNewTokens: params.responseTokens, stopTokens, batchSize: 8 });
    expect(corpus.some((c) => c.ids.length > c.responseStart)).toBe(true);
    const skip = deriveSkipPrefix(tokenizer);
    // per feature, per sequence: activations over ids[skip..] (one sequence at a time, no padding)
    const all = new Map<string, number[][]>();
    for (const id of new Set([...FEATURES, ...REFERENCE])) all.set(id, []);
    for (const c of corpus) {
      for (const layer of [0, 1]) {
        const r = model.forward({ inputIds: [c.ids] }, { cache: [hookNames.residPost(layer)], stopAtLayer: layer, logits: false });
        const f = set.get(layer).encode(r.cache.get(hookNames.residPost(layer))!);
        const d = (await f.data()) as Float32Array;
        const dSae = set.meta(layer).dSae;
        tf.dispose([f, ...r.cache.values()]);
        for (const id of all.keys()) {
          const [l, i] = id.slice(1).split('/').map(Number) as [number, number];
          if (l !== layer) continue;
          const row: number[] = [];
          for (let t = skip; t < c.ids.length; t++) row.push(d[t * dSae + i]!);
          all.get(id)!.push(row);
        }
      }
    }
    for (const fd of feats) {
      const rows = all.get(fd.id)!;
      const maxes = rows.map((r) => Math.max(...r));
      const order = maxes.map((m, i) => ({ m, i })).filter((x) => x.m > 0).sort((a, b) => b.m - a.m || a.i - b.i);
      // top examples: the argmax sequences, with their per-token activations
      expect(fd.top.map((e) => e.seq)).toEqual(order.slice(0, 5).map((x) => x.i));
      for (const e of fd.top) {
        expect(e.max).toBeCloseTo(maxes[e.seq]!, 4);
        expect(e.acts).toHaveLength(rows[e.seq]!.length);
        expect(e.tokens).toHaveLength(e.acts.length);
        e.acts.forEach((a, t) => expect(a).toBeCloseTo(rows[e.seq]![t]!, 4));
        expect(e.acts[e.maxIndex]).toBeCloseTo(e.max, 4);
      }
      // quantile groups: every example's max lies in its interval; none repeats a top example
      const top = new Set(fd.top.map((e) => e.seq));
      expect(fd.quantiles.length).toBe(4);
      for (const g of fd.quantiles) for (const e of g.examples) {
        expect(e.max).toBeGreaterThanOrEqual(g.lo - 1e-6);
        expect(e.max).toBeLessThanOrEqual(g.hi + 1e-6);
        expect(top.has(e.seq)).toBe(false);
      }
      expect(fd.quantiles.reduce((a, g) => a + g.sequences, 0)).toBe(order.length);
      // density
      const flat = rows.flat();
      expect(fd.density.tokens).toBe(flat.length);
      expect(fd.density.active).toBe(flat.filter((a) => a !== 0).length);
      expect(fd.maxActivation).toBeCloseTo(Math.max(...flat), 4);
      const respActive = corpus.reduce((acc, c, s) => acc + rows[s]!.filter((a, t) => a !== 0 && t + skip >= c.responseStart).length, 0);
      expect(fd.density.response.active).toBe(respActive);
      expect(fd.histogram.counts.reduce((a, b) => a + b, 0)).toBe(fd.density.active);
      // co-activation with the reference set
      for (const co of fd.coactivation) {
        const other = all.get(co.id)!.flat();
        const bothN = flat.filter((a, t) => a !== 0 && other[t] !== 0).length;
        expect(co.both).toBe(bothN);
        expect(co.pOtherGivenThis).toBeCloseTo(fd.density.active ? bothN / fd.density.active : 0, 6);
      }
      expect(fd.coactivation.map((c) => c.id)).not.toContain(fd.id);
    }
    expect(feats.some((f) => f.top.length > 0)).toBe(true);
  }, 120_000);

  it('logit effects fold the final norm in and equal one direct matmul; neighbours are the decoder-cosine argmax', async () => {
    const file = path.join(DEMO, 'model', 'model.safetensors');
    const st = SafetensorsFile.open(file);
    const wuName = st.has('lm_head.weight') ? 'lm_head.weight' : 'model.embed_tokens.weight';
    st.close();
    const WU = readTensor(file, wuName);
    const norm = readTensor(file, 'model.norm.weight');
    const { set } = await loadSource(resolveSource(null), cache);
    for (const fd of feats) {
      const sae = set.get(fd.layer);
      const scores = tf.tidy(() => {
        const row = tf.gather(sae.W_dec, tf.tensor1d([fd.index], 'int32')); // [1, d]
        const folded = tf.mul(row, tf.add(tf.tensor1d(norm.data), 1)); // Gemma: (1 + w)
        return tf.matMul(folded, tf.tensor2d(WU.data, WU.shape as [number, number]), false, true);
      });
      const s = (await scores.data()) as Float32Array;
      scores.dispose();
      const best = Array.from(s.keys()).sort((a, b) => s[b]! - s[a]!);
      expect(fd.logits.foldedNorm).toBe(true);
      expect(fd.logits.promoted.map((t) => t.id)).toEqual(best.slice(0, 10));
      fd.logits.promoted.forEach((t) => expect(t.value).toBeCloseTo(s[t.id]!, 4));
      expect(fd.logits.suppressed.map((t) => t.id)).toEqual(best.reverse().slice(0, 10));
      // neighbours
      const cos = tf.tidy(() => {
        const W = sae.W_dec;
        const n = tf.norm(W, 'euclidean', 1);
        const row = tf.gather(W, tf.tensor1d([fd.index], 'int32'));
        return tf.div(tf.squeeze(tf.matMul(row, W, false, true)), tf.mul(n, tf.gather(n, fd.index)));
      });
      const c = (await cos.data()) as Float32Array;
      cos.dispose();
      const nb = Array.from(c.keys()).filter((j) => j !== fd.index).sort((a, b) => c[b]! - c[a]!).slice(0, 10);
      expect(fd.neighbours.map((x) => x.index)).toEqual(nb);
      fd.neighbours.forEach((x) => expect(x.cosine).toBeCloseTo(c[x.index]!, 4));
    }
  });

  it('reads built-in suites by name (alpaca) and any importable file', () => {
    expect(builtinSuites().get('alpaca')).toMatch(/processed[/\\]alpaca\.json$/);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-corpus-'));
    fs.writeFileSync(path.join(tmp, 'mine.txt'), 'one prompt\nanother prompt\n');
    fs.writeFileSync(path.join(tmp, 'mine.jsonl'), '{"instruction": "a"}\n{"instruction": "b"}\n');
    const p = readCorpus(['alpaca', 'mine.txt', 'mine.jsonl'], tmp, [], { perSource: 3, seed: 1 });
    expect(p.filter((x) => x.source === 'alpaca')).toHaveLength(3);
    expect(p.filter((x) => x.source === 'mine').map((x) => x.text).sort()).toEqual(['a', 'another prompt', 'b', 'one prompt']);
    expect(() => readCorpus(['no-such-suite'], tmp, [], { perSource: 1, seed: 0 })).toThrow(/not a file.*built-in/);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});
