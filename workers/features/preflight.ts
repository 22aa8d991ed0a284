/**
 * SAE preflight for the Models view: per layer, the bytes the SAE needs (from headers), d_sae, whether the
 * model plus that one layer fits the backend's memory budget, and the fit statistics (MSE, FVE, L0, dead
 * fraction: workers/sae/preflight.ts) on a few chat-formatted conversations — suite prompts with the model's
 * own greedy reply — and CE-loss recovered = (CE_zero − CE_spliced) / (CE_zero − CE_clean), splicing every
 * position but the template prefix (BOS), over every next-token label and over the reply's labels alone
 * (the demo README's two figures).
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM, HookFn } from '../model/types.js';
import type { SaeSet } from '../sae/set.js';
import type { Sae } from '../sae/types.js';
import { chunks, leftPad, type PaddedBatch } from '../refusal/batch.js';
import { fitPreflight, type FitReport } from '../sae/preflight.js';
import { checkCanHold, memoryBudget } from '../engine/memory-guard.js';
import type { BackendInfo } from '../engine/backend.js';

export interface SaeLayerPreflight {
  layer: number;
  saeId: string;
  path: string;
  format: string;
  architecture: string;
  dIn: number;
  dSae: number;
  neuronpediaId?: string;
  /** float32 bytes resident once loaded. */
  bytes: number;
  /** Model + this layer within the backend's budget (and its per-tensor limit). */
  fits: boolean;
  /** Why it does not fit, or why the fit statistics are missing. */
  reason?: string;
  mse?: number;
  fve?: number;
  meanL0?: number;
  deadFraction?: number;
  /** CE recovered over every next-token label of the conversations. */
  ceRecovered?: number;
  /** CE recovered over the reply's labels only. */
  ceRecoveredResponse?: number;
  ce?: { all: CeStats; response: CeStats };
  fit: FitReport | null;
}

export interface CeStats {
  clean: number;
  spliced: number;
  zero: number;
  recovered: number;
  labels: number;
}

/** Chat-formatted prompts with the model's greedy reply appended (stop token included), left-padded. */
export interface Conversations {
  batches: PaddedBatch[];
  /** Per batch, per row: slot of the first reply token. */
  replyStart: number[][];
}

export async function buildConversations(
  model: CausalLM,
  prompts: number[][],
  opts: { batchSize?: number; maxNewTokens?: number; stopTokens: number[]; signal?: AbortSignal },
): Promise<Conversations> {
  const out: Conversations = { batches: [], replyStart: [] };
  for (const ch of chunks(prompts, opts.batchSize ?? 8)) {
    if (opts.signal?.aborted) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
    const g = (opts.maxNewTokens ?? 16) > 0 ? await model.generate(leftPad(ch, model.config.padTokenId), { maxNewTokens: opts.maxNewTokens ?? 16, stopTokens: opts.stopTokens }) : null;
    const convs = ch.map((p, b) => [...p, ...(g?.newTokens[b] ?? [])]);
    const batch = leftPad(convs, model.config.padTokenId);
    out.batches.push(batch);
    out.replyStart.push(ch.map((p, b) => batch.padLeft[b]! + p.length));
  }
  return out;
}

function ceOf(c: { clean: number; spliced: number; zero: number; n: number }): CeStats {
  const n = Math.max(1, c.n);
  const clean = c.clean / n;
  const spliced = c.spliced / n;
  const zero = c.zero / n;
  return { clean, spliced, zero, recovered: zero - clean !== 0 ? (zero - spliced) / (zero - clean) : NaN, labels: c.n };
}

/** CE clean / SAE-spliced / zero-ablated at the SAE's hook point (positions from padLeft + skip spliced). */
export function ceRecovered(model: CausalLM, conv: Conversations, sae: Sae, skip: number): { all: CeStats; response: CeStats } {
  const point = sae.meta.hookPoint;
  if (!point) throw new Error(`${sae.meta.id} has no hook point`);
  const all = { clean: 0, spliced: 0, zero: 0, n: 0 };
  const resp = { clean: 0, spliced: 0, zero: 0, n: 0 };
  conv.batches.forEach((batch, bi) => {
    const B = batch.inputIds.length;
    const T = batch.T;
    const rows: number[] = [];
    const labels: number[] = [];
    const isResp: boolean[] = [];
    for (let b = 0; b < B; b++)
      for (let t = batch.padLeft[b]!; t + 1 < T; t++) {
        rows.push(b * T + t);
        labels.push(batch.inputIds[b]![t + 1]!);
        isResp.push(t + 1 >= conv.replyStart[bi]![b]!);
      }
    if (!rows.length) return;
    const mask = tf.tensor3d(batch.inputIds.map((r, b) => r.map((_, t) => [t >= batch.padLeft[b]! + skip ? 1 : 0])), [B, T, 1]);
    const splice: HookFn = (x) => tf.tidy(() => tf.add(tf.mul(sae.decode(sae.encode(x)), mask), tf.mul(x, tf.sub(1, mask))) as tf.Tensor3D);
    const zero: HookFn = (x) => tf.tidy(() => tf.mul(x, tf.sub(1, mask)) as tf.Tensor3D);
    const lp = (hooks: Array<{ point: string; fn: HookFn }>): Float32Array => {
      const r = model.forward(batch, { hooks });
      const logits = r.logits!;
      const V = logits.shape[2];
      const v = tf.tidy(() => {
        const sel = tf.gather(tf.reshape(logits, [B * T, V]), tf.tensor1d(rows, 'int32'));
        return tf.sum(tf.mul(tf.logSoftmax(sel), tf.oneHot(tf.tensor1d(labels, 'int32'), V)), 1);
      });
      const d = v.dataSync() as Float32Array;
      tf.dispose([v, logits, ...r.cache.values()]);
      return d;
    };
    try {
      const c = lp([]);
      const s = lp([{ point, fn: splice }]);
      const z = lp([{ point, fn: zero }]);
      for (let i = 0; i < rows.length; i++) {
        for (const acc of isResp[i] ? [all, resp] : [all]) {
          acc.clean -= c[i]!;
          acc.spliced -= s[i]!;
          acc.zero -= z[i]!;
          acc.n++;
        }
      }
    } finally {
      mask.dispose();
    }
  });
  return { all: ceOf(all), response: ceOf(resp) };
}

export interface PreflightReport {
  backend: string;
  budgetBytes: number;
  /** Whether budgetBytes is the backend's own limit (wasm) or the machine's memory (no backend limit known). */
  budgetFrom: 'backend' | 'system';
  modelBytes: number;
  prompts: number;
  saes: SaeLayerPreflight[];
}

export interface PreflightOptions {
  ce?: boolean;
  skipFirst?: number;
  /** Compute fit statistics (loads each layer in turn). Default true. */
  fit?: boolean;
  onLayer?: (done: number, of: number) => void;
  signal?: AbortSignal;
}

export async function saePreflight(
  model: CausalLM,
  modelBytes: number,
  sets: SaeSet[],
  conv: Conversations,
  backend: BackendInfo,
  opts: PreflightOptions = {},
): Promise<PreflightReport> {
  const budget = memoryBudget(backend);
  const budgetBytes = budget.totalBytes ?? os.totalmem();
  const rows: SaeLayerPreflight[] = [];
  const total = sets.reduce((a, s) => a + s.layers.length, 0);
  let done = 0;
  const prompts = conv.batches.reduce((a, b) => a + b.inputIds.length, 0);
  for (const set of sets) {
    for (const layer of set.layers) {
      if (opts.signal?.aborted) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
      const src = set.source(layer);
      const meta = src.meta;
      const bytes = src.estimateBytes();
      let fits = modelBytes + bytes <= budgetBytes;
      let reason: string | undefined = fits ? undefined : `model + SAE need ${modelBytes + bytes} bytes, over the budget of ${budgetBytes}`;
      if (fits)
        try {
          checkCanHold(modelBytes + bytes, backend, { inUseBytes: 0, largestTensorBytes: meta.dIn * meta.dSae * 4, what: `the model + SAE layer ${layer}` });
        } catch (e) {
          fits = false;
          reason = (e as Error).message;
        }
      const row: SaeLayerPreflight = {
        layer,
        saeId: meta.id,
        path: meta.source,
        format: meta.format,
        architecture: meta.architecture,
        dIn: meta.dIn,
        dSae: meta.dSae,
        ...(meta.neuronpediaId ? { neuronpediaId: meta.neuronpediaId } : {}),
        bytes,
        fits,
        ...(reason ? { reason } : {}),
        fit: null,
      };
      if (meta.dIn !== model.config.dModel) {
        row.reason = `d_in ${meta.dIn} ≠ the model's d_model ${model.config.dModel}`;
      } else if (layer >= model.config.nLayers) {
        row.reason = `layer ${layer} is beyond the model's ${model.config.nLayers} layers`;
      } else if (fits && (opts.fit ?? true) && conv.batches.length) {
        const wasResident = set.isResident(layer);
        try {
          const sae = set.get(layer);
          const skip = opts.skipFirst ?? 0;
          const r = fitPreflight(model, conv.batches, sae, { ce: false, skipFirst: skip });
          Object.assign(row, { fit: r, mse: r.mse, fve: r.fve, meanL0: r.meanL0, deadFraction: r.deadFraction });
          if (opts.ce ?? true) {
            const ce = ceRecovered(model, conv, sae, skip);
            Object.assign(row, { ce, ceRecovered: ce.all.recovered, ceRecoveredResponse: ce.response.recovered });
          }
        } catch (e) {
          row.reason = `fit statistics failed: ${(e as Error).message}`;
        } finally {
          if (!wasResident) set.drop(layer);
        }
      }
      rows.push(row);
      opts.onLayer?.(++done, total);
    }
  }
  return { backend: backend.description, budgetBytes, budgetFrom: budget.totalBytes != null ? 'backend' : 'system', modelBytes, prompts, saes: rows };
}
