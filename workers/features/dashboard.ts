/**
 * Feature dashboards at the level of Neuronpedia / SAELens' sae_dashboard, for a chosen list of features:
 * one streamed scan of a corpus (chat-formatted prompts with, optionally, the model's own reply, so prompt
 * AND response tokens are seen) stores, per feature,
 *  - the top-activating sequences and "quantile groups": the activation range [0, max] cut into equal-width
 *    intervals (as sae_dashboard does), each with the share of nonzero activations it holds and a seeded
 *    sample of sequences whose max falls in it — each example with its per-token activations;
 *  - activation density: fraction of tokens where the feature fires (prompt and response apart) and a
 *    histogram of the nonzero activations;
 *  - logit effects with the final norm folded in: (W_dec[i] ⊙ γ) · W_Uᵀ, γ = the final RMSNorm scale
 *    (1 + w for Gemma, w for Llama) — TransformerLens' fold_ln, as SAELens dashboards compute them;
 *  - nearest features by decoder cosine within the feature's SAE;
 *  - co-activation with a reference set (the refusal set): tokens where both fire, Jaccard, P(other | this).
 *
 * Tensors stay here: the scan keeps per-(feature, sequence) maxima (F × N floats), a seeded reservoir of
 * nonzero values per feature for the histogram, and recomputes the few shown sequences at the end.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { hookNames, type CausalLM } from '../model/types.js';
import { encodeSlice, sliceSae, type SaeSlice } from '../sae/sae.js';
import type { SaeSet } from '../sae/set.js';
import { SafetensorsFile, toFloat32 } from '../engine/io/safetensors.js';
import { chunks, leftPad } from '../refusal/batch.js';
import { mulberry32 } from '../../common/suites/ops.js';
import { histogram, topK, unembedScores } from './detail.js';

export interface FeatureId {
  layer: number;
  index: number;
}

export const featureId = (f: FeatureId): string => `L${f.layer}/${f.index}`;

/** One corpus sequence: token ids, and where the model's reply starts (ids.length when there is none). */
export interface CorpusSeq {
  source: string;
  text: string;
  ids: number[];
  responseStart: number;
}

export interface DashboardExample {
  /** Index of the sequence in the corpus. */
  seq: number;
  source: string;
  tokens: string[];
  acts: number[];
  /** Index in `tokens` of the first reply token (tokens.length when the sequence has no reply). */
  responseStart: number;
  max: number;
  maxIndex: number;
}

export interface QuantileGroup {
  lo: number;
  hi: number;
  /** Share of all nonzero token activations that fall in [lo, hi). */
  share: number;
  /** Sequences whose max falls in the interval. */
  sequences: number;
  examples: DashboardExample[];
}

export interface FeatureDashboard {
  id: string;
  layer: number;
  index: number;
  density: {
    tokens: number;
    active: number;
    fraction: number;
    /** log10 of the firing fraction (−Infinity is written as null). */
    log10: number | null;
    prompt: { tokens: number; active: number };
    response: { tokens: number; active: number };
  };
  histogram: { edges: number[]; counts: number[]; zeroCount: number; tokens: number; fractionZero: number; sampled: boolean };
  maxActivation: number;
  meanNonzero: number;
  top: DashboardExample[];
  quantiles: QuantileGroup[];
  logits: { foldedNorm: boolean; promoted: Array<{ token: string; id: number; value: number }>; suppressed: Array<{ token: string; id: number; value: number }> };
  neighbours: Array<{ id: string; index: number; cosine: number }>;
  coactivation: Array<{ id: string; both: number; jaccard: number; pOtherGivenThis: number; pThisGivenOther: number }>;
}

export interface DashboardOptions {
  features: FeatureId[];
  /** Co-activation partners (the refusal set); scanned along with `features`. */
  reference?: FeatureId[];
  topExamples?: number;
  quantiles?: number;
  perQuantile?: number;
  bins?: number;
  logitK?: number;
  neighbours?: number;
  /** Leading template tokens left out of every statistic (BOS). */
  skipPrefix?: number;
  batchSize?: number;
  /** Nonzero values kept per feature for the histogram (seeded reservoir). */
  reservoir?: number;
  seed?: number;
  signal?: AbortSignal;
  onBatch?: (done: number, of: number) => void;
}

export interface DashboardInput {
  model: CausalLM;
  modelDir: string;
  set: SaeSet;
  corpus: CorpusSeq[];
  tokens: (ids: number[]) => string[];
  tokenText: (id: number) => string;
}

function abortIf(signal?: AbortSignal): void {
  if (signal?.aborted) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
}

interface LayerPlan {
  layer: number;
  slice: SaeSlice;
  /** Position in the scanned list of each slice column. */
  pos: number[];
}

function planLayers(set: SaeSet, feats: FeatureId[]): LayerPlan[] {
  const by = new Map<number, number[]>();
  feats.forEach((f, k) => {
    if (!set.has(f.layer)) throw new Error(`no SAE for layer ${f.layer} (have ${set.layers.join(', ')})`);
    const dSae = set.meta(f.layer).dSae;
    if (!Number.isInteger(f.index) || f.index < 0 || f.index >= dSae) throw new Error(`${featureId(f)}: the layer's SAE has ${dSae} features`);
    by.set(f.layer, [...(by.get(f.layer) ?? []), k]);
  });
  return [...by.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([layer, pos]) => {
      const was = set.isResident(layer);
      const slice = sliceSae(set.get(layer), pos.map((k) => feats[k]!.index));
      if (!was) set.drop(layer);
      return { layer, slice, pos };
    });
}

/** Per-token activations of every scanned feature for a batch: out[f][b][t] over the batch's slots. */
function encodeBatch(model: CausalLM, plans: LayerPlan[], F: number, ids: number[][]): { acts: Float32Array[]; T: number; padLeft: number[] } {
  const batch = leftPad(ids, model.config.padTokenId);
  const points = plans.map((p) => hookNames.residPost(p.layer));
  const r = model.forward(batch, { cache: points, stopAtLayer: Math.max(...plans.map((p) => p.layer)), logits: false });
  const B = ids.length;
  const T = batch.T;
  const acts = Array.from({ length: F }, () => new Float32Array(B * T));
  try {
    for (const p of plans) {
      const f = encodeSlice(p.slice, r.cache.get(hookNames.residPost(p.layer))!);
      const d = f.dataSync() as Float32Array;
      f.dispose();
      const k = p.pos.length;
      for (let s = 0; s < B * T; s++) for (let j = 0; j < k; j++) acts[p.pos[j]!]![s] = d[s * k + j]!;
    }
  } finally {
    tf.dispose([...r.cache.values()]);
    r.logits?.dispose();
  }
  return { acts, T, padLeft: batch.padLeft };
}

// ───────────────────────────── logit effects with the final norm folded in ─────────────────────────────

/** The final RMSNorm's per-channel scale γ (1 + w for Gemma-2, w for Llama), read from the safetensors. */
export function finalNormScale(modelDir: string): Float32Array {
  const cfg = JSON.parse(fs.readFileSync(path.join(modelDir, 'config.json'), 'utf8')) as { model_type?: string; architectures?: string[] };
  const gemma = /gemma/i.test(cfg.model_type ?? '') || (cfg.architectures ?? []).some((a) => /gemma/i.test(a));
  const name = 'model.norm.weight';
  let file = path.join(modelDir, 'model.safetensors');
  if (!fs.existsSync(file)) {
    const index = path.join(modelDir, 'model.safetensors.index.json');
    const map = (JSON.parse(fs.readFileSync(index, 'utf8')).weight_map ?? {}) as Record<string, string>;
    if (!map[name]) throw new Error(`${modelDir}: no ${name} in the safetensors index`);
    file = path.join(modelDir, map[name]!);
  }
  const st = SafetensorsFile.open(file);
  try {
    if (!st.has(name)) throw new Error(`${file}: no ${name} (the final norm)`);
    const info = st.info(name);
    const bytes = info.end - info.begin;
    const buf = Buffer.alloc(bytes);
    const fd = fs.openSync(file, 'r');
    try {
      fs.readSync(fd, buf, 0, bytes, info.begin);
    } finally {
      fs.closeSync(fd);
    }
    const w = toFloat32(buf, info.dtype);
    return gemma ? w.map((x) => 1 + x) : w;
  } finally {
    st.close();
  }
}

/** (W_dec[i] ⊙ γ) · W_U[j] for every vocabulary entry j. */
export function foldedLogitEffects(modelDir: string, decoderRow: Float32Array, gamma: Float32Array): Float32Array {
  if (gamma.length !== decoderRow.length) throw new Error(`final norm has ${gamma.length} channels, the decoder row ${decoderRow.length}`);
  return unembedScores(modelDir, decoderRow.map((x, i) => x * gamma[i]!));
}

// ───────────────────────────── the scan ─────────────────────────────

export async function featureDashboards(inp: DashboardInput, opts: DashboardOptions): Promise<FeatureDashboard[]> {
  const { model, set, corpus } = inp;
  if (!opts.features.length) throw new Error('no features to scan');
  // scanned list: the features, then reference features not among them
  const key = (f: FeatureId) => featureId(f);
  const scanned: FeatureId[] = [];
  const seen = new Set<string>();
  for (const f of [...opts.features, ...(opts.reference ?? [])])
    if (!seen.has(key(f))) {
      seen.add(key(f));
      scanned.push({ layer: f.layer, index: f.index });
    }
  const F = scanned.length;
  const nShown = opts.features.length;
  const refPos = (opts.reference ?? []).map((f) => scanned.findIndex((s) => key(s) === key(f)));
  const skip = opts.skipPrefix ?? 0;
  const N = corpus.length;
  const seqMax = Array.from({ length: F }, () => new Float32Array(N));
  const seqArg = Array.from({ length: F }, () => new Int32Array(N));
  const activeP = new Float64Array(F);
  const activeR = new Float64Array(F);
  const sumNz = new Float64Array(F);
  const maxAct = new Float64Array(F);
  // co-activation counts: shown feature × reference feature
  const both = Array.from({ length: nShown }, () => new Float64Array(refPos.length));
  const capacity = Math.max(1, opts.reservoir ?? 50_000);
  const reservoir = Array.from({ length: F }, () => [] as number[]);
  const seenNz = new Float64Array(F);
  const rng = mulberry32(opts.seed ?? 0);
  let tokP = 0;
  let tokR = 0;

  const plans = planLayers(set, scanned);
  try {
    const batches = chunks(
      corpus.map((c, i) => ({ c, i })),
      opts.batchSize ?? 16,
    );
    for (const [bi, ch] of batches.entries()) {
      abortIf(opts.signal);
      const { acts, T, padLeft } = encodeBatch(
        model,
        plans,
        F,
        ch.map((x) => x.c.ids),
      );
      const fired = new Uint8Array(F);
      ch.forEach(({ c, i }, b) => {
        const start = padLeft[b]! + skip;
        for (let f = 0; f < F; f++) {
          seqMax[f]![i] = 0;
          seqArg[f]![i] = 0;
        }
        for (let s = start; s < T; s++) {
          const t = s - padLeft[b]!; // index in c.ids
          const resp = t >= c.responseStart;
          if (resp) tokR++;
          else tokP++;
          for (let f = 0; f < F; f++) {
            const a = acts[f]![b * T + s]!;
            fired[f] = a !== 0 ? 1 : 0;
            if (a === 0) continue;
            if (resp) activeR[f]++;
            else activeP[f]++;
            sumNz[f] += a;
            if (a > maxAct[f]!) maxAct[f] = a;
            if (a > seqMax[f]![i]!) {
              seqMax[f]![i] = a;
              seqArg[f]![i] = t - skip;
            }
            // reservoir sampling (algorithm R)
            const n = ++seenNz[f]!;
            if (reservoir[f]!.length < capacity) reservoir[f]!.push(a);
            else {
              const j = Math.floor(rng() * n);
              if (j < capacity) reservoir[f]![j] = a;
            }
          }
          for (let f = 0; f < nShown; f++) {
            if (!fired[f]) continue;
            refPos.forEach((r, k) => {
              if (fired[r]) both[f]![k]++;
            });
          }
        }
      });
      opts.onBatch?.(bi + 1, batches.length);
    }

    // ── which sequences are shown: top by max, then a seeded sample per activation interval ──
    const topN = opts.topExamples ?? 10;
    const nQ = opts.quantiles ?? 10;
    const perQ = opts.perQuantile ?? 5;
    const chosen: Array<{ top: number[]; groups: Array<{ lo: number; hi: number; share: number; sequences: number; seqs: number[] }> }> = [];
    for (let f = 0; f < nShown; f++) {
      const order = Array.from({ length: N }, (_, i) => i)
        .filter((i) => seqMax[f]![i]! > 0)
        .sort((a, b) => seqMax[f]![b]! - seqMax[f]![a]! || a - b);
      const top = order.slice(0, topN);
      const inTop = new Set(top);
      const hi = maxAct[f]!;
      const groups = [];
      if (hi > 0) {
        const w = hi / nQ;
        const vals = reservoir[f]!;
        for (let q = 0; q < nQ; q++) {
          const lo = q * w;
          const up = q === nQ - 1 ? Infinity : (q + 1) * w;
          const members = order.filter((i) => seqMax[f]![i]! >= lo && seqMax[f]![i]! < up);
          const pool = members.filter((i) => !inTop.has(i));
          const seqs = sampleWithout(pool, perQ, mulberry32((opts.seed ?? 0) * 7919 + f * 131 + q)).sort((a, b) => seqMax[f]![b]! - seqMax[f]![a]!);
          const inBin = vals.filter((v) => v >= lo && v < up).length;
          groups.push({ lo, hi: q === nQ - 1 ? hi : (q + 1) * w, share: vals.length ? inBin / vals.length : 0, sequences: members.length, seqs });
        }
      }
      chosen.push({ top, groups: groups.reverse() });
    }

    // recompute the shown sequences once (per-token activations of every shown feature)
    const need = [...new Set(chosen.flatMap((c) => [...c.top, ...c.groups.flatMap((g) => g.seqs)]))].sort((a, b) => a - b);
    const rows = new Map<number, Float32Array[]>(); // seq → per shown feature, acts over ids[skip..]
    for (const ch of chunks(need, opts.batchSize ?? 16)) {
      abortIf(opts.signal);
      const { acts, T, padLeft } = encodeBatch(
        model,
        plans,
        F,
        ch.map((i) => corpus[i]!.ids),
      );
      ch.forEach((i, b) => {
        const start = padLeft[b]! + skip;
        rows.set(
          i,
          acts.slice(0, nShown).map((a) => a.slice(b * T + start, (b + 1) * T)),
        );
      });
    }
    const example = (f: number, i: number): DashboardExample => {
      const c = corpus[i]!;
      const a = Array.from(rows.get(i)![f]!);
      return {
        seq: i,
        source: c.source,
        tokens: inp.tokens(c.ids.slice(skip)),
        acts: a,
        responseStart: Math.max(0, c.responseStart - skip),
        max: seqMax[f]![i]!,
        maxIndex: seqArg[f]![i]!,
      };
    };

    // ── logits, neighbours ──
    const gamma = finalNormScale(inp.modelDir);
    const k = opts.logitK ?? 10;
    const nb = opts.neighbours ?? 10;
    const out: FeatureDashboard[] = [];
    const neighbourRows = new Map<string, FeatureDashboard['neighbours']>();
    for (const p of plans) {
      const mine = p.pos.filter((x) => x < nShown);
      if (!mine.length) continue;
      const was = set.isResident(p.layer);
      const sae = set.get(p.layer);
      const cos = tf.tidy(() => {
        const W = sae.W_dec;
        const Wn = tf.div(W, tf.add(tf.norm(W, 'euclidean', 1, true), 1e-12));
        const rowsT = tf.gather(Wn, tf.tensor1d(mine.map((x) => scanned[x]!.index), 'int32'));
        return tf.matMul(rowsT, Wn, false, true);
      });
      const cd = cos.dataSync() as Float32Array;
      cos.dispose();
      if (!was) set.drop(p.layer);
      const dSae = set.meta(p.layer).dSae;
      mine.forEach((x, r) => {
        const self = scanned[x]!.index;
        const row = cd.subarray(r * dSae, (r + 1) * dSae);
        const idx = topK(Float32Array.from(row), nb + 1, 'max').filter((j) => j !== self).slice(0, nb);
        neighbourRows.set(key(scanned[x]!), idx.map((j) => ({ id: `L${p.layer}/${j}`, index: j, cosine: row[j]! })));
      });
    }
    const decRows = new Map<string, Float32Array>();
    for (const p of plans) {
      const d = p.slice.W_dec.dataSync() as Float32Array;
      const dIn = p.slice.meta.dIn;
      p.pos.forEach((x, j) => decRows.set(key(scanned[x]!), d.slice(j * dIn, (j + 1) * dIn)));
    }

    for (let f = 0; f < nShown; f++) {
      const id = key(scanned[f]!);
      const scores = foldedLogitEffects(inp.modelDir, decRows.get(id)!, gamma);
      const lens = (j: number) => ({ token: inp.tokenText(j), id: j, value: scores[j]! });
      const active = activeP[f]! + activeR[f]!;
      const tokens = tokP + tokR;
      const h = histogram(reservoir[f]!, reservoir[f]!.length + (tokens - active), opts.bins ?? 30);
      const fraction = tokens ? active / tokens : 0;
      out.push({
        id,
        layer: scanned[f]!.layer,
        index: scanned[f]!.index,
        density: {
          tokens,
          active,
          fraction,
          log10: fraction > 0 ? Math.log10(fraction) : null,
          prompt: { tokens: tokP, active: activeP[f]! },
          response: { tokens: tokR, active: activeR[f]! },
        },
        histogram: { ...h, zeroCount: tokens - active, tokens, fractionZero: tokens ? (tokens - active) / tokens : 0, sampled: seenNz[f]! > reservoir[f]!.length },
        maxActivation: maxAct[f]!,
        meanNonzero: active ? sumNz[f]! / active : 0,
        top: chosen[f]!.top.map((i) => example(f, i)),
        quantiles: chosen[f]!.groups.map((g) => ({ lo: g.lo, hi: g.hi, share: g.share, sequences: g.sequences, examples: g.seqs.map((i) => example(f, i)) })),
        logits: { foldedNorm: true, promoted: topK(scores, k, 'max').map(lens), suppressed: topK(scores, k, 'min').map(lens) },
        neighbours: neighbourRows.get(id) ?? [],
        coactivation: refPos
          .map((r, kk) => {
            const b = both[f]![kk]!;
            const aThis = active;
            const aOther = activeP[r]! + activeR[r]!;
            const union = aThis + aOther - b;
            return { id: key(scanned[r]!), both: b, jaccard: union ? b / union : 0, pOtherGivenThis: aThis ? b / aThis : 0, pThisGivenOther: aOther ? b / aOther : 0 };
          })
          .filter((c) => c.id !== id)
          .sort((a, b) => b.jaccard - a.jaccard),
      });
    }
    return out;
  } finally {
    for (const p of plans) p.slice.dispose();
  }
}

function sampleWithout<T>(xs: T[], n: number, rng: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, n);
}
