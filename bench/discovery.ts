/**
 * `npm run bench:discovery` (issue 10): the CosSim+AP attribution on a synthetic model (8 layers, d_model
 * 1024, random weights) with 8 random Gemma Scope–format SAEs of width 16,384 on disk, by the exact
 * shortcut (model + one SAE layer streamed) and by the literal splice (every SAE resident). Prints JSON:
 * peak memory (tfjs bytes, RSS), seconds and FLOPs per path, their agreement, and the planner's estimate
 * for Gemma-2-2B-it with 26 × 65k Gemma Scope SAEs on each path.
 * Options: --prompts 16 --seq 24 --steps 10 --width 16384 --batch 4 --backend wasm
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '../workers/engine/backend.js';
import { createModel, expectedWeights, gradientsAtHooks, hookNames, type ModelConfig } from '../workers/model/index.js';
import { laIg, type AttributionResult } from '../workers/refusal/attribution.js';
import { makeLens, providerFromSaeSet } from '../workers/refusal/lens.js';
import { planMemory } from '../workers/refusal/memory.js';
import { cosinePool } from '../workers/refusal/pool.js';
import { selectFeatures } from '../workers/refusal/selection.js';
import { quietCtx, type ChatCodec } from '../workers/refusal/types.js';
import { SaeSet } from '../workers/sae/set.js';
import { writeSyntheticGemmaScopeTree } from '../workers/sae/synthetic.js';
import { benchConfig } from './model-shape.js';

const { values: a } = parseArgs({
  options: {
    prompts: { type: 'string', default: '16' }, seq: { type: 'string', default: '24' }, steps: { type: 'string', default: '10' },
    width: { type: 'string', default: '16384' }, batch: { type: 'string', default: '4' }, backend: { type: 'string' },
  },
});
const N = Number(a.prompts), T = Number(a.seq), STEPS = Number(a.steps), W = Number(a.width), BATCH = Number(a.batch);
const log = (m: string) => process.stderr.write(`[bench:discovery] ${m}\n`);

function gemma2_2b(): ModelConfig {
  return { ...benchConfig(), vocabSize: 256000, dModel: 2304, nLayers: 26, nHeads: 8, nKvHeads: 4, headDim: 256, dMlp: 9216, slidingWindow: 4096, queryPreAttnScalar: 256 };
}

/** FLOPs of one forward over `tokens` tokens of a model (matmuls only; attention over T×T). */
function forwardFlops(c: ModelConfig, batch: number, seq: number): number {
  const perLayer = c.dModel * c.headDim * (2 * c.nHeads + 2 * c.nKvHeads) + 3 * c.dModel * c.dMlp;
  return 2 * batch * seq * (c.nLayers * perLayer + c.dModel * c.vocabSize) + 4 * batch * c.nLayers * c.nHeads * c.headDim * seq * seq;
}

function maxRelDiff(x: AttributionResult, y: AttributionResult): number {
  let num = 0;
  let den = 0;
  x.samples.forEach((s, b) => {
    for (const [l, arr] of Object.entries(s.poolAttr)) {
      const other = y.samples[b]!.poolAttr[Number(l)]!;
      arr.forEach((v, i) => {
        num = Math.max(num, Math.abs(v - other[i]!));
        den = Math.max(den, Math.abs(v));
      });
    }
  });
  return den ? num / den : 0;
}

async function main(): Promise<void> {
  const backend = await initBackend({ preference: a.backend as BackendName | undefined });
  log(`backend ${backend.description}`);
  const config = { ...benchConfig(), vocabSize: 4096 };
  const weights = new Map<string, tf.Tensor>();
  let seed = 10;
  for (const [n, shp] of expectedWeights(config)) weights.set(n, shp.length === 1 ? tf.zeros(shp) : tf.randomNormal(shp, 0, 0.02, 'float32', seed++));
  const model = createModel(config, weights);
  const layers = Array.from({ length: config.nLayers }, (_, l) => l);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-bench-saes-'));
  log(`writing ${layers.length} SAEs of width ${W} to ${root}`);
  writeSyntheticGemmaScopeTree(root, { layers, dIn: config.dModel, dSae: W, seed: 7 });
  const codec: ChatCodec = { encodePrompt: () => [], decode: (ids) => ids.join(' '), refusalTokenId: 5, bosTokenId: 2, skipPrefix: 1, endOfTurnId: null };
  let s = 99;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const prompts = Array.from({ length: N }, (_, i) => ({ text: `p${i}`, ids: [2, ...Array.from({ length: T - 1 }, () => 3 + Math.floor(rnd() * (config.vocabSize - 3)))] }));
  const direction = Float32Array.from({ length: config.dModel }, () => rnd() - 0.5);
  const saeBytes = 4 * (2 * config.dModel * W + 2 * W + config.dModel);

  async function runPath(path_: 'shortcut' | 'literal') {
    const set = SaeSet.open(root);
    const provider = providerFromSaeSet(set, { resident: path_ === 'literal' });
    const lens = makeLens(model, provider, codec);
    const rss0 = process.resourceUsage().maxRSS * 1024;
    const t0 = performance.now();
    let attr: AttributionResult | null = null;
    let pool: Record<number, number[]> = {};
    let poolSeconds = 0;
    const prof = await tf.profile(async () => {
      pool = (await cosinePool(lens, { direction, k: 10, kStar: 20 }, quietCtx())).pool;
      poolSeconds = (performance.now() - t0) / 1000;
      log(`${path_}: pool ${poolSeconds.toFixed(1)} s, attribution…`);
      attr = await laIg(lens, { prompts, direction, pool, steps: STEPS, path: path_, batchSize: BATCH }, quietCtx());
      return tf.scalar(0);
    });
    const seconds = (performance.now() - t0) / 1000 - poolSeconds;
    const rss = process.resourceUsage().maxRSS * 1024;
    set.dropAll();
    set.close();
    log(`${path_}: ${seconds.toFixed(1)} s, tfjs peak ${(prof.peakBytes / 2 ** 20).toFixed(0)} MiB, SAE layers resident at peak ${provider.peakResident}`);
    return { attr: attr!, pool, seconds, poolSeconds, peakBytes: prof.peakBytes, maxRss: rss, rssBefore: rss0, peakResidentSaeLayers: provider.peakResident };
  }

  // The activation working set of one bare gradient pass (batch × seq, every resid_post): the
  // "activations" term of the memory target, measured rather than guessed.
  log('bare gradient pass');
  const bare = await tf.profile(() => {
    const batch = { inputIds: prompts.slice(0, BATCH).map((p) => p.ids) };
    const { grads } = gradientsAtHooks(model, batch, layers.map((l) => hookNames.residPost(l)), (o) => tf.sum(o.logits!) as tf.Scalar);
    for (const t of grads.values()) t.dispose();
    return tf.scalar(0);
  });
  const activationBytes = bare.peakBytes - model.weightBytes();
  log(`bare pass peak ${(bare.peakBytes / 2 ** 20).toFixed(0)} MiB; shortcut path`);
  const shortcut = await runPath('shortcut');
  log('literal path');
  const literal = await runPath('literal');
  const selS = selectFeatures(shortcut.attr, { kStar: 20, skipPrefix: 1 }).global.sets[0]!;
  const selL = selectFeatures(literal.attr, { kStar: 20, skipPrefix: 1 }).global.sets[0]!;
  const passes = STEPS + 1 + 2; // IG passes (trapezoid: steps + 1) + clean + patched forwards
  const fwd = forwardFlops(config, N, T);
  const saeSplice = 2 * 2 * N * T * config.dModel * W * config.nLayers; // encode + decode per layer
  const flops = {
    shortcut: passes * fwd + (STEPS + 1) * 2 * fwd + 2 * N * T * config.dModel * 10 * config.nLayers * 2,
    literal: passes * (fwd + saeSplice) + (STEPS + 1) * 2 * (fwd + saeSplice),
  };
  const g = gemma2_2b();
  const g65 = 4 * (2 * g.dModel * 65536 + 2 * 65536 + g.dModel);
  const gIn = { config: g, modelBytes: 4 * 2.614e9, saeLayerBytes: Array(26).fill(g65), dSae: 65536, seqLen: 64, newTokens: 64 };
  const out = {
    backend: backend.description,
    model: { layers: config.nLayers, d_model: config.dModel, vocab: config.vocabSize, weight_bytes: model.weightBytes() },
    sae: { layers: layers.length, width: W, bytes_each: saeBytes },
    prompts: N, seq: T, ig_steps: STEPS, batch: BATCH,
    shortcut: { attribution_seconds: round(shortcut.seconds), pool_seconds: round(shortcut.poolSeconds), tfjs_peak_bytes: shortcut.peakBytes, max_rss_bytes: shortcut.maxRss, sae_layers_resident_at_peak: shortcut.peakResidentSaeLayers, gflop: round(flops.shortcut / 1e9) },
    literal: { attribution_seconds: round(literal.seconds), pool_seconds: round(literal.poolSeconds), tfjs_peak_bytes: literal.peakBytes, max_rss_bytes: literal.maxRss, sae_layers_resident_at_peak: literal.peakResidentSaeLayers, gflop: round(flops.literal / 1e9) },
    agreement: { max_rel_diff_pool_attr: maxRelDiff(shortcut.attr, literal.attr), same_global_selection: JSON.stringify(selS) === JSON.stringify(selL) },
    targets: {
      shortcut_peak_le_model_plus_1_5_sae_plus_activations: shortcut.peakBytes <= model.weightBytes() + 1.5 * saeBytes + activationBytes,
      shortcut_time_le_half_literal: shortcut.seconds <= 0.5 * literal.seconds,
      activation_bytes_measured: activationBytes,
      planner_activation_estimate_bytes: planMemory({ config, modelBytes: model.weightBytes(), saeLayerBytes: [saeBytes], dSae: W, seqLen: T, path: 'shortcut' }, BATCH).parts.attribution,
    },
    planner_gemma2_2b_26x65k: {
      shortcut_peak_bytes: planMemory({ ...gIn, path: 'shortcut' }, 4).peakBytes,
      literal_peak_bytes: planMemory({ ...gIn, path: 'literal' }, 4).peakBytes,
      batch: 4, seq: 64,
    },
  };
  fs.rmSync(root, { recursive: true, force: true });
  model.dispose();
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

await main();
