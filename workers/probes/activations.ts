/**
 * Probe inputs from the model (METHOD §2.13, W6): resid_post at chosen positions per layer, and SAE
 * activations of feature sets, taken on left-padded batches WITH the attention mask and mask-derived
 * position ids, so a prompt's probe input does not depend on what it was batched with. The reference's
 * unmasked caching (`model(input_ids)` on left-padded batches) is available as `mask: 'compat'`.
 *
 * Feature sets are read through the S1 identity: f_i(z) needs only feature i's encoder column, bias and
 * threshold, so each SAE layer is loaded once, sliced to the features any set asks for, and released.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mulberry32 } from '../../common/suites/ops.js';
import { leftPad } from '../model/batch.js';
import { hookNames, type CausalLM } from '../model/types.js';
import { encodeSlice, sliceSae, type SaeSlice } from '../sae/sae.js';
import type { FeatureSet, SaeProvider } from '../refusal/types.js';

/** Which token positions a probe reads: the last token, k tokens before it, or the masked mean. */
export type ProbePosition = 'last' | 'mean' | { fromEnd: number };

export interface ActivationOptions {
  /** Pad id for left padding (the model config's padTokenId). */
  padId: number;
  batchSize?: number;
  position?: ProbePosition;
  /** 'mean': leading tokens of every prompt to skip (W12/W13: BOS, or BOS + system block). Default 0. */
  skipPrefix?: number;
  /** W6: 'default' = attention mask + mask-derived positions; 'compat' = the reference's unmasked forward. */
  mask?: 'default' | 'compat';
  signal?: AbortSignal;
  onBatch?: (done: number, total: number) => void;
}

export interface ActivationRequest {
  /** resid_post layers for dense probes. */
  denseLayers: number[];
  /** Named feature sets read from the SAEs (need `saes`). */
  featureSets?: Record<string, FeatureSet>;
}

export interface ProbeActivations {
  /** layer → one row (d_model) per sequence. */
  dense: Map<number, Float32Array[]>;
  /** set name → one row (|set|, in the set's order) per sequence. */
  features: Record<string, Float32Array[]>;
}

function abortIf(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const e = new Error('cancelled');
    e.name = 'AbortError';
    throw e;
  }
}

/** [B, T] reduction weights: one-hot at the chosen position, or the normalised mask for 'mean'. */
export function positionWeights(lengths: number[], T: number, position: ProbePosition, opts: { skipPrefix?: number; compat?: boolean } = {}): number[][] {
  return lengths.map((len, b) => {
    const w = new Array<number>(T).fill(0);
    const pad = T - len;
    if (position === 'mean') {
      // Compat: the reference averages every slot (pads and BOS included).
      const from = opts.compat ? 0 : pad + (opts.skipPrefix ?? 0);
      if (from >= T) throw new Error(`sequence ${b} has no position left after skipping ${opts.skipPrefix ?? 0} prefix tokens`);
      for (let t = from; t < T; t++) w[t] = 1 / (T - from);
    } else {
      const k = position === 'last' ? 0 : position.fromEnd;
      if (!Number.isInteger(k) || k < 0) throw new Error(`position fromEnd must be a non-negative integer (got ${k})`);
      if (k >= len) throw new Error(`sequence ${b} has ${len} tokens; position ${k} from the end is outside it`);
      w[T - 1 - k] = 1;
    }
    return w;
  });
}

/** Loads each needed SAE layer once, slices the union of requested features, releases the layer. */
export async function featureSlices(saes: SaeProvider, sets: readonly FeatureSet[]): Promise<Map<number, SaeSlice>> {
  const byLayer = new Map<number, Set<number>>();
  for (const s of sets) for (const f of s) {
    if (!byLayer.has(f.layer)) byLayer.set(f.layer, new Set());
    byLayer.get(f.layer)!.add(f.index);
  }
  const out = new Map<number, SaeSlice>();
  try {
    for (const [layer, idx] of [...byLayer.entries()].sort((a, b) => a[0] - b[0])) {
      if (!saes.layers.includes(layer)) throw new Error(`feature set needs an SAE at layer ${layer} (have ${saes.layers.join(', ')})`);
      const sae = await saes.get(layer);
      try {
        const indices = [...idx].sort((a, b) => a - b);
        const bad = indices.find((i) => !Number.isInteger(i) || i < 0 || i >= sae.meta.dSae);
        if (bad !== undefined) throw new Error(`feature L${layer}/${bad} is outside the SAE (d_sae ${sae.meta.dSae})`);
        out.set(layer, sliceSae(sae, indices));
      } finally {
        saes.release(sae);
      }
    }
  } catch (e) {
    for (const s of out.values()) s.dispose();
    throw e;
  }
  return out;
}

/**
 * Dense and feature probe inputs for token sequences (each already chat-formatted), in input order.
 * One forward per batch up to the deepest layer needed, caching only the resid_post points asked for.
 */
export async function probeActivations(
  model: CausalLM,
  seqs: readonly number[][],
  req: ActivationRequest,
  opts: ActivationOptions & { saes?: SaeProvider },
): Promise<ProbeActivations> {
  const sets = Object.entries(req.featureSets ?? {});
  if (sets.length && !opts.saes) throw new Error('probeActivations: feature sets need SAEs');
  const L = model.config.nLayers;
  for (const l of req.denseLayers) if (!Number.isInteger(l) || l < 0 || l >= L) throw new Error(`layer ${l} is outside the model (0..${L - 1})`);
  const slices = sets.length ? await featureSlices(opts.saes!, sets.map(([, s]) => s)) : new Map<number, SaeSlice>();
  try {
    // Column of each set feature inside its layer's slice.
    const col = new Map<number, Map<number, number>>();
    for (const [l, s] of slices) col.set(l, new Map(s.indices.map((i, k) => [i, k])));
    const layers = [...new Set([...req.denseLayers, ...slices.keys()])].sort((a, b) => a - b);
    const dense = new Map<number, Float32Array[]>(req.denseLayers.map((l) => [l, []]));
    const features: Record<string, Float32Array[]> = Object.fromEntries(sets.map(([n]) => [n, []]));
    if (!seqs.length || !layers.length) return { dense, features };
    const bs = Math.max(1, Math.floor(opts.batchSize ?? 16));
    const position = opts.position ?? 'last';
    const compat = opts.mask === 'compat';
    const nBatches = Math.ceil(seqs.length / bs);
    for (let bi = 0; bi < nBatches; bi++) {
      abortIf(opts.signal);
      const chunk = seqs.slice(bi * bs, (bi + 1) * bs);
      for (const s of chunk) if (!s.length) throw new Error('probeActivations: empty token sequence');
      const padded = leftPad(chunk as number[][], opts.padId);
      const T = padded.inputIds[0]!.length;
      const B = chunk.length;
      const w = positionWeights(chunk.map((s) => s.length), T, position, { skipPrefix: opts.skipPrefix, compat });
      // Compat (W6 off): the reference passes only input_ids, so pads are attended and positions run 0..T-1.
      const batch = compat ? { inputIds: padded.inputIds } : padded;
      const read = tf.tidy(() => {
        const out = model.forward(batch, { cache: layers.map((l) => hookNames.residPost(l)), logits: false, stopAtLayer: layers[layers.length - 1]! });
        const wt = tf.tensor3d(w.flat(), [B, 1, T]);
        const reduce = (x: tf.Tensor3D) => tf.reshape(tf.matMul(wt, x), [B, x.shape[2]]) as tf.Tensor2D;
        // A plain array (tf.tidy keeps tensors returned in arrays/objects, not in Maps).
        const res: { layer: number; dense?: tf.Tensor2D; feats?: tf.Tensor2D }[] = [];
        for (const l of layers) {
          const act = out.cache.get(hookNames.residPost(l));
          if (!act) throw new Error(`the model returned no activation for ${hookNames.residPost(l)}`);
          const r: { layer: number; dense?: tf.Tensor2D; feats?: tf.Tensor2D } = { layer: l };
          if (dense.has(l)) r.dense = reduce(act);
          const sl = slices.get(l);
          // SAE features per position, then the same reduction (a mean of activations, not of the stream).
          if (sl) r.feats = reduce(encodeSlice(sl, act) as tf.Tensor3D);
          res.push(r);
        }
        return res;
      });
      try {
        for (const r of read) {
          const l = r.layer;
          if (r.dense) {
            const d = r.dense.shape[1];
            const v = r.dense.dataSync() as Float32Array;
            for (let b = 0; b < B; b++) dense.get(l)!.push(v.slice(b * d, (b + 1) * d));
          }
        }
        const featVals = new Map<number, { v: Float32Array; k: number }>();
        for (const r of read) if (r.feats) featVals.set(r.layer, { v: r.feats.dataSync() as Float32Array, k: r.feats.shape[1] });
        for (const [name, set] of sets) {
          for (let b = 0; b < B; b++) {
            const row = new Float32Array(set.length);
            set.forEach((f, j) => {
              const fv = featVals.get(f.layer)!;
              row[j] = fv.v[b * fv.k + col.get(f.layer)!.get(f.index)!]!;
            });
            features[name]!.push(row);
          }
        }
      } finally {
        for (const r of read) tf.dispose([r.dense, r.feats].filter((t): t is tf.Tensor2D => !!t));
      }
      opts.onBatch?.(bi + 1, nBatches);
      // Let the event loop breathe between batches (progress, cancellation).
      await new Promise((r) => setImmediate(r));
    }
    return { dense, features };
  } finally {
    for (const s of slices.values()) s.dispose();
  }
}

/**
 * A random control set: the same number of features at the same layers as `like`, indices drawn
 * uniformly without replacement from each layer's dictionary (or from `pool(layer)`), excluding `like`'s
 * own features, seeded.
 */
export function randomFeatureSet(
  like: FeatureSet,
  dSae: (layer: number) => number,
  seed: number,
  opts: { pool?: (layer: number) => readonly number[] } = {},
): FeatureSet {
  const rnd = mulberry32(seed);
  const perLayer = new Map<number, number>();
  for (const f of like) perLayer.set(f.layer, (perLayer.get(f.layer) ?? 0) + 1);
  const taken = new Set(like.map((f) => `${f.layer}/${f.index}`));
  const picks = new Map<number, number[]>();
  for (const [layer, n] of [...perLayer.entries()].sort((a, b) => a[0] - b[0])) {
    const D = dSae(layer);
    if (opts.pool) {
      // Draw from a candidate pool (e.g. features that fire on the training prompts): a seeded shuffle.
      const cand = [...new Set(opts.pool(layer))].filter((i) => i >= 0 && i < D && !taken.has(`${layer}/${i}`)).sort((a, b) => a - b);
      if (cand.length < n) throw new Error(`random control: layer ${layer} has ${cand.length} candidate features, need ${n}`);
      for (let k = cand.length - 1; k > 0; k--) {
        const j = Math.floor(rnd() * (k + 1));
        [cand[k], cand[j]] = [cand[j]!, cand[k]!];
      }
      picks.set(layer, cand.slice(0, n));
      continue;
    }
    const free = D - [...taken].filter((k) => k.startsWith(`${layer}/`)).length;
    if (free < n) throw new Error(`random control: layer ${layer} has ${free} features left, need ${n}`);
    const got: number[] = [];
    const seen = new Set<number>();
    while (got.length < n) {
      const i = Math.floor(rnd() * D);
      if (seen.has(i) || taken.has(`${layer}/${i}`)) continue;
      seen.add(i);
      got.push(i);
    }
    picks.set(layer, got);
  }
  // Same layer order as `like`.
  const next = new Map<number, number>();
  return like.map((f) => {
    const k = next.get(f.layer) ?? 0;
    next.set(f.layer, k + 1);
    return { layer: f.layer, index: picks.get(f.layer)![k]! };
  });
}

/**
 * Features that the probe would read as non-zero on at least `minFrac` of the sequences, per layer (for a
 * random control of live features). One layer at a time, sequences in chunks, so a wide SAE costs one
 * full-width slice and a chunk of activations at once.
 */
export async function activeFeatures(
  model: CausalLM,
  saes: SaeProvider,
  seqs: readonly number[][],
  layers: readonly number[],
  opts: ActivationOptions & { minFrac?: number; chunk?: number },
): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>();
  const chunk = Math.max(1, opts.chunk ?? 256);
  const need = Math.max(1, Math.ceil((opts.minFrac ?? 0.01) * seqs.length));
  for (const layer of [...new Set(layers)].sort((a, b) => a - b)) {
    const sae = await saes.get(layer);
    const D = sae.meta.dSae;
    saes.release(sae);
    const all: FeatureSet = Array.from({ length: D }, (_, index) => ({ layer, index }));
    const counts = new Uint32Array(D);
    for (let i = 0; i < seqs.length; i += chunk) {
      const acts = await probeActivations(model, seqs.slice(i, i + chunk), { denseLayers: [], featureSets: { all } }, { ...opts, saes });
      for (const row of acts.features.all!) for (let j = 0; j < D; j++) if (row[j]! !== 0) counts[j]!++;
    }
    out.set(layer, [...counts.keys()].filter((j) => counts[j]! >= need));
  }
  return out;
}
