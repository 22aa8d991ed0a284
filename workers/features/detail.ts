/**
 * What the Feature page shows about one SAE feature L{layer}/{index}:
 *  - decoder cosine with the refusal direction (W_dec[i] · r̂ / ‖W_dec[i]‖);
 *  - per-token activations over a capped, seeded sample of the suites' chat-formatted prompts (left-padded
 *    batches, attention masks honoured, the template prefix — BOS — left out), the top-activating prompts
 *    (sorted by their max) and tokens, the activation histogram over nonzero values plus the zero count;
 *  - the logit lens: W_dec[i] · W_U over the vocabulary (W_U read from the safetensors: lm_head.weight, or the
 *    embedding when tied), top promoted and suppressed tokens;
 *  - the SAE's Neuronpedia id when its meta has one.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { hookNames, type CausalLM } from '../model/types.js';
import { encodeSlice, sliceSae, type SaeSlice } from '../sae/sae.js';
import type { SaeSet } from '../sae/set.js';
import { neuronpediaUrl } from '../sae/features.js';
import { SafetensorsFile, toFloat32, type TensorInfo } from '../engine/io/safetensors.js';
import { chunks, leftPad } from '../refusal/batch.js';
import type { SampledPrompt } from './source.js';

export interface TokenActs {
  suite?: string;
  prompt?: string;
  tokens: string[];
  acts: number[];
  /** Max activation in this context and where. */
  max: number;
  maxIndex: number;
}

export interface FeatureDetail {
  id: string;
  layer: number;
  index: number;
  saeId: string;
  neuronpediaId?: string;
  neuronpediaUrl?: string;
  /** Cosine of the decoder row with the refusal direction, when one is known. */
  cosine?: number;
  cosineWith?: { from: string; layer: number | null };
  decoderNorm: number;
  /** Histogram over the nonzero activations; zeroCount + Σ counts = tokens. */
  histogram: { edges: number[]; counts: number[]; zeroCount: number; tokens: number; fractionZero: number };
  /** Top-activating contexts, by their max activation (descending). */
  contexts: TokenActs[];
  /** Tokens with the highest activation (max over occurrences). */
  topTokens: Array<{ token: string; max: number; mean: number; count: number }>;
  activationBySuite: Array<{ suite: string; prompts: number; tokens: number; fractionActive: number; mean: number; max: number }>;
  logitLens: { promoted: Array<{ token: string; value: number }>; suppressed: Array<{ token: string; value: number }> };
  /** Attribution: the discovery graph's (suite 'discovery', when the feature is a node there), then LA-IG per suite. */
  attributionBySuite?: Array<{ suite: string; value: number; n?: number }>;
  stats: { prompts: number; tokens: number; maxActivation: number; meanNonzero: number };
}

export interface ContextOptions {
  batchSize?: number;
  /** Contexts kept (top by max activation). */
  topContexts?: number;
  topTokens?: number;
  bins?: number;
  /** Leading template tokens left out of every statistic (BOS). */
  skipPrefix?: number;
  signal?: AbortSignal;
  onBatch?: (done: number, of: number) => void;
}

export interface ContextStats {
  contexts: TokenActs[];
  topTokens: FeatureDetail['topTokens'];
  histogram: FeatureDetail['histogram'];
  activationBySuite: FeatureDetail['activationBySuite'];
  stats: FeatureDetail['stats'];
}

/** Activation of one slice column at every real token of the prompts (after skipPrefix). */
export async function featureContexts(
  model: CausalLM,
  slice: SaeSlice,
  prompts: Array<SampledPrompt & { ids: number[] }>,
  tokens: (ids: number[]) => string[],
  opts: ContextOptions = {},
): Promise<ContextStats> {
  const layer = slice.meta.layer;
  const point = hookNames.residPost(layer);
  const skip = opts.skipPrefix ?? 0;
  const all: TokenActs[] = [];
  const tokAgg = new Map<string, { max: number; sum: number; count: number }>();
  const suiteAgg = new Map<string, { prompts: number; tokens: number; active: number; sum: number; max: number }>();
  const nonzero: number[] = [];
  let tokensSeen = 0;
  const batches = chunks(prompts, opts.batchSize ?? 16);
  for (const [bi, ch] of batches.entries()) {
    if (opts.signal?.aborted) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
    const batch = leftPad(ch.map((p) => p.ids), model.config.padTokenId);
    const r = model.forward(batch, { cache: [point], stopAtLayer: layer, logits: false });
    const act = r.cache.get(point)!;
    const f = encodeSlice(slice, act);
    const data = (await f.data()) as Float32Array;
    tf.dispose([f, ...r.cache.values()]);
    r.logits?.dispose();
    ch.forEach((p, b) => {
      const start = batch.padLeft[b]! + skip;
      const ids = batch.inputIds[b]!.slice(start);
      const acts = Array.from(data.subarray(b * batch.T + start, (b + 1) * batch.T));
      const toks = tokens(ids);
      let max = -Infinity;
      let maxIndex = 0;
      const s = suiteAgg.get(p.suite) ?? { prompts: 0, tokens: 0, active: 0, sum: 0, max: 0 };
      s.prompts++;
      acts.forEach((a, t) => {
        if (a > max) {
          max = a;
          maxIndex = t;
        }
        tokensSeen++;
        s.tokens++;
        s.sum += a;
        s.max = Math.max(s.max, a);
        if (a !== 0) {
          nonzero.push(a);
          s.active++;
          const k = toks[t]!;
          const g = tokAgg.get(k) ?? { max: -Infinity, sum: 0, count: 0 };
          g.max = Math.max(g.max, a);
          g.sum += a;
          g.count++;
          tokAgg.set(k, g);
        }
      });
      suiteAgg.set(p.suite, s);
      all.push({ suite: p.suite, prompt: p.text, tokens: toks, acts, max: acts.length ? max : 0, maxIndex });
    });
    opts.onBatch?.(bi + 1, batches.length);
  }
  all.sort((a, b) => b.max - a.max);
  const topContexts = all.filter((c) => c.max > 0).slice(0, opts.topContexts ?? 12);
  const topTokens = [...tokAgg.entries()]
    .map(([token, g]) => ({ token, max: g.max, mean: g.sum / g.count, count: g.count }))
    .sort((a, b) => b.max - a.max)
    .slice(0, opts.topTokens ?? 12);
  return {
    contexts: topContexts,
    topTokens,
    histogram: histogram(nonzero, tokensSeen, opts.bins ?? 20),
    activationBySuite: [...suiteAgg.entries()].map(([suite, s]) => ({
      suite,
      prompts: s.prompts,
      tokens: s.tokens,
      fractionActive: s.tokens ? s.active / s.tokens : 0,
      mean: s.tokens ? s.sum / s.tokens : 0,
      max: s.max,
    })),
    stats: {
      prompts: prompts.length,
      tokens: tokensSeen,
      maxActivation: nonzero.length ? Math.max(...nonzero) : 0,
      meanNonzero: nonzero.length ? nonzero.reduce((a, b) => a + b, 0) / nonzero.length : 0,
    },
  };
}

/** Equal-width bins from min(0, lo) to the largest nonzero activation; the zeros are counted apart. */
export function histogram(nonzero: number[], tokens: number, bins: number): FeatureDetail['histogram'] {
  const zeroCount = tokens - nonzero.length;
  const out = { edges: [] as number[], counts: [] as number[], zeroCount, tokens, fractionZero: tokens ? zeroCount / tokens : 0 };
  if (!nonzero.length) return out;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of nonzero) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  lo = Math.min(0, lo);
  if (hi <= lo) hi = lo + 1;
  const n = Math.max(1, Math.floor(bins));
  const w = (hi - lo) / n;
  out.edges = Array.from({ length: n + 1 }, (_, i) => lo + i * w);
  out.counts = new Array(n).fill(0);
  for (const v of nonzero) out.counts[Math.min(n - 1, Math.floor((v - lo) / w))]++;
  return out;
}

// ───────────────────────────── logit lens ─────────────────────────────

/** Where W_U lives in a HF folder: lm_head.weight, else the (tied) embedding. */
function unembeddingTensor(modelDir: string): { file: string; info: TensorInfo } {
  const candidates = ['lm_head.weight', 'model.embed_tokens.weight', 'embed_tokens.weight', 'model.model.embed_tokens.weight'];
  const single = path.join(modelDir, 'model.safetensors');
  const files: string[] = [];
  const shardOf = new Map<string, string>();
  if (fs.existsSync(single)) files.push(single);
  else {
    const index = path.join(modelDir, 'model.safetensors.index.json');
    if (!fs.existsSync(index)) throw new Error(`${modelDir}: no model.safetensors(.index.json)`);
    const map = (JSON.parse(fs.readFileSync(index, 'utf8')).weight_map ?? {}) as Record<string, string>;
    for (const [k, v] of Object.entries(map)) shardOf.set(k, path.join(modelDir, v));
  }
  for (const name of candidates) {
    const file = files[0] ?? shardOf.get(name);
    if (!file) continue;
    const st = SafetensorsFile.open(file);
    try {
      if (st.has(name)) return { file, info: st.info(name) };
    } finally {
      st.close();
    }
  }
  throw new Error(`${modelDir}: no lm_head.weight or embed_tokens.weight to read the unembedding from`);
}

const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };

/** v · W_U[j] for every vocabulary row j (streamed in row chunks; W_U is [vocab, d]). */
export function unembedScores(modelDir: string, v: Float32Array, chunkBytes = 64 * 1024 * 1024): Float32Array {
  const { file, info } = unembeddingTensor(modelDir);
  const [V, d] = info.shape as [number, number];
  if (d !== v.length) throw new Error(`unembedding is [${info.shape}], the decoder row has ${v.length} dims`);
  const eb = DTYPE_BYTES[info.dtype];
  if (!eb) throw new Error(`unembedding dtype ${info.dtype} is not a float`);
  const rowsPer = Math.max(1, Math.floor(chunkBytes / (d * eb)));
  const out = new Float32Array(V);
  const fd = fs.openSync(file, 'r');
  try {
    for (let r0 = 0; r0 < V; r0 += rowsPer) {
      const rows = Math.min(rowsPer, V - r0);
      const buf = Buffer.alloc(rows * d * eb);
      fs.readSync(fd, buf, 0, buf.length, info.begin + r0 * d * eb);
      const w = toFloat32(buf, info.dtype);
      for (let r = 0; r < rows; r++) {
        let s = 0;
        const o = r * d;
        for (let i = 0; i < d; i++) s += w[o + i]! * v[i]!;
        out[r0 + r] = s;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

export function topK(scores: Float32Array, k: number, dir: 'max' | 'min'): number[] {
  const idx = Array.from(scores.keys());
  idx.sort((a, b) => (dir === 'max' ? scores[b]! - scores[a]! : scores[a]! - scores[b]!));
  return idx.slice(0, k);
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  const c = ab / Math.max(1e-12, Math.sqrt(aa) * Math.sqrt(bb));
  return Math.max(-1, Math.min(1, c));
}

export interface DetailInput {
  model: CausalLM;
  modelDir: string;
  set: SaeSet;
  layer: number;
  index: number;
  prompts: Array<SampledPrompt & { ids: number[] }>;
  tokens: (ids: number[]) => string[];
  tokenText: (id: number) => string;
  direction: { vector: Float32Array; from: string; layer: number | null } | null;
  logitK?: number;
  context?: ContextOptions;
}

export async function featureDetail(inp: DetailInput): Promise<FeatureDetail> {
  const { set, layer, index } = inp;
  if (!set.has(layer)) throw new Error(`no SAE for layer ${layer} (have ${set.layers.join(', ')})`);
  const meta = set.meta(layer);
  if (!Number.isInteger(index) || index < 0 || index >= meta.dSae) throw new Error(`L${layer}/${index}: the layer's SAE has ${meta.dSae} features`);
  const wasResident = set.isResident(layer);
  const slice = sliceSae(set.get(layer), [index]);
  if (!wasResident) set.drop(layer);
  try {
    const row = (await slice.W_dec.data()) as Float32Array;
    let norm = 0;
    for (const x of row) norm += x * x;
    norm = Math.sqrt(norm);
    const ctx = await featureContexts(inp.model, slice, inp.prompts, inp.tokens, inp.context);
    const k = inp.logitK ?? 10;
    const scores = unembedScores(inp.modelDir, Float32Array.from(row));
    const lens = {
      promoted: topK(scores, k, 'max').map((j) => ({ token: inp.tokenText(j), value: scores[j]! })),
      suppressed: topK(scores, k, 'min').map((j) => ({ token: inp.tokenText(j), value: scores[j]! })),
    };
    const np = neuronpediaUrl(meta, index);
    const out: FeatureDetail = {
      id: `L${layer}/${index}`,
      layer,
      index,
      saeId: meta.id,
      ...(meta.neuronpediaId ? { neuronpediaId: `${meta.neuronpediaId}/${index}`, neuronpediaUrl: np ?? undefined } : {}),
      decoderNorm: norm,
      histogram: ctx.histogram,
      contexts: ctx.contexts,
      topTokens: ctx.topTokens,
      activationBySuite: ctx.activationBySuite,
      logitLens: lens,
      stats: ctx.stats,
    };
    if (inp.direction && inp.direction.vector.length === row.length) {
      out.cosine = cosine(row, inp.direction.vector);
      out.cosineWith = { from: inp.direction.from, layer: inp.direction.layer };
    }
    return out;
  } finally {
    slice.dispose();
  }
}
