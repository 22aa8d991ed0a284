/**
 * Clamp one feature set while holding another at its unintervened values (paper §4.2; METHOD #15/W16).
 *
 * Retention modes:
 *  - 'exact' (default): an unintervened twin decoder is fed the same tokens in lockstep, so retained
 *    features take their unintervened values at every prompt position and every decoding step. With
 *    nothing clamped the run equals the base model exactly.
 *  - 'prompt-mean' (W16 as METHOD.md words it): per position on the prompt; during decoding, the
 *    per-sample, per-feature mean over the prompt's unintervened values.
 *  - 'prompt-only' (compat, the reference): retention on the prompt pass only.
 * Edits use the S1 identity: only the touched features' encoder columns and decoder rows are held.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hookNames, type DecodingSession, type HookContext, type Hooks } from '../model/types.js';
import { encodeSlice, sliceSae, type SaeSlice } from '../sae/sae.js';
import { chunks, leftPad, positionMask } from '../refusal/batch.js';
import { checkAbort, type EncodedPrompt, type FeatureSet, type Lens, type StepCtx } from '../refusal/types.js';

export type RetentionMode = 'exact' | 'prompt-mean' | 'prompt-only';

export type Edit = { mode: 'multiply'; c: number } | { mode: 'set'; v: number };

export interface Intervention {
  /** Features edited (shared by every sample). */
  clamp: FeatureSet;
  edit: Edit;
  /** Features held at their unintervened values. */
  retain: FeatureSet;
  retention?: RetentionMode;
}

interface LayerPlan {
  layer: number;
  slice: SaeSlice;
  /** [k] 1 where the slice column is clamped. */
  clampMask: tf.Tensor1D;
  /** [k] 1 where the slice column is retained. */
  retainMask: tf.Tensor1D;
  retainCols: number;
}

/** One slice per layer touched by the intervention (clamped ∪ retained features). */
export async function planLayers(lens: Lens, iv: Pick<Intervention, 'clamp' | 'retain'>): Promise<LayerPlan[]> {
  const byLayer = new Map<number, { clamp: Set<number>; retain: Set<number> }>();
  const entry = (l: number) => {
    if (!byLayer.has(l)) byLayer.set(l, { clamp: new Set(), retain: new Set() });
    return byLayer.get(l)!;
  };
  for (const f of iv.clamp) entry(f.layer).clamp.add(f.index);
  for (const f of iv.retain) entry(f.layer).retain.add(f.index);
  const plans: LayerPlan[] = [];
  for (const [layer, s] of [...byLayer.entries()].sort((a, b) => a[0] - b[0])) {
    for (const i of s.retain) if (s.clamp.has(i)) throw new Error(`feature L${layer}/${i} is both clamped and retained`);
    const cols = [...s.clamp, ...s.retain].sort((a, b) => a - b);
    const sae = await lens.saes.get(layer);
    const slice = sliceSae(sae, cols);
    lens.saes.release(sae);
    plans.push({
      layer,
      slice,
      clampMask: tf.tensor1d(cols.map((i) => (s.clamp.has(i) ? 1 : 0))),
      retainMask: tf.tensor1d(cols.map((i) => (s.retain.has(i) ? 1 : 0))),
      retainCols: s.retain.size,
    });
  }
  return plans;
}

export function disposePlans(plans: LayerPlan[]): void {
  for (const p of plans) {
    p.slice.dispose();
    p.clampMask.dispose();
    p.retainMask.dispose();
  }
}

/** Hooks that record each plan layer's slice activations (before any edit at that layer) into `store`. */
export function captureHooks(plans: LayerPlan[], store: Map<number, tf.Tensor3D>): Hooks {
  return plans.map((p) => ({
    point: hookNames.residPost(p.layer),
    fn: (act: tf.Tensor3D) => {
      store.get(p.layer)?.dispose();
      store.set(p.layer, tf.keep(encodeSlice(p.slice, act) as tf.Tensor3D));
    },
  }));
}

/**
 * Edit hooks: clamped columns get the edit, retained columns get `retained(layer, ctx)` when it gives a
 * tensor [B, T_call, k] (slice columns; only retained columns are read), and stay as they are otherwise.
 */
export function editHooks(
  plans: LayerPlan[],
  edit: Edit,
  retained: (layer: number, ctx: HookContext) => tf.Tensor | null,
  observe?: (layer: number, f: tf.Tensor3D) => void,
): Hooks {
  return plans.map((p) => ({
    point: hookNames.residPost(p.layer),
    fn: (act: tf.Tensor3D, ctx: HookContext) => {
      const f = encodeSlice(p.slice, act) as tf.Tensor3D;
      observe?.(p.layer, f);
      const clamped = edit.mode === 'multiply' ? tf.mul(f, edit.c) : tf.fill(f.shape, edit.v);
      let target = tf.add(tf.mul(clamped, p.clampMask), tf.mul(f, tf.sub(1, p.clampMask)));
      const r = p.retainCols ? retained(p.layer, ctx) : null;
      if (r) target = tf.add(tf.mul(r, p.retainMask), tf.mul(target, tf.sub(1, p.retainMask)));
      const [B, T, d] = act.shape;
      const k = p.slice.indices.length;
      const diff = tf.reshape(tf.sub(target, f), [B * T, k]);
      return tf.add(act, tf.reshape(tf.matMul(diff, p.slice.W_dec), [B, T, d])) as tf.Tensor3D;
    },
  }));
}

export interface InterventionGeneration {
  prompt: string;
  tokens: number[];
  text: string;
  /** P(refusal token) at the first generated position. */
  pRefusal: number;
}

function softmaxAt(row: Float32Array, i: number): number {
  let m = -Infinity;
  for (const x of row) m = Math.max(m, x);
  let s = 0;
  for (const x of row) s += Math.exp(x - m);
  return Math.exp(row[i]! - m) / s;
}

function argmax(row: Float32Array): number {
  let b = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[b]!) b = i;
  return b;
}

/** Greedy generation under an intervention with retention; the decoding loop drives twin and run in lockstep. */
export async function generateWithRetention(
  lens: Lens,
  prompts: EncodedPrompt[],
  iv: Intervention,
  opts: { maxNewTokens?: number; batchSize?: number; stopTokens: number[] },
  ctx: StepCtx,
): Promise<InterventionGeneration[]> {
  const model = lens.model;
  if (!model.startDecoding) throw new Error('this model does not support stepwise decoding (needed for retention)');
  const mode = iv.retention ?? 'exact';
  const stop = new Set(opts.stopTokens);
  const maxNew = opts.maxNewTokens ?? 32;
  const plans = await planLayers(lens, iv);
  const out: InterventionGeneration[] = [];
  const retainAny = iv.retain.length > 0;
  try {
    for (const ch of chunks(prompts, opts.batchSize ?? 8)) {
      checkAbort(ctx);
      const batch = leftPad(ch.map((p) => p.ids), model.config.padTokenId);
      const B = ch.length;
      const twinStore = new Map<number, tf.Tensor3D>();
      const promptMean = new Map<number, tf.Tensor3D>();
      let twin: DecodingSession | null = retainAny ? model.startDecoding(batch, captureHooks(plans, twinStore)) : null;
      if (twin && mode !== 'exact') {
        // Per-sample mean over the prompt's real tokens of the unintervened values.
        const mask = tf.tensor3d(positionMask(batch, 0).map((r) => r.map((x) => [x])), [B, batch.T, 1]);
        for (const [l, f] of twinStore) {
          promptMean.set(l, tf.keep(tf.tidy(() => tf.div(tf.sum(tf.mul(f, mask), 1, true), tf.maximum(tf.sum(mask, 1, true), 1)) as tf.Tensor3D)));
        }
        mask.dispose();
        twin.dispose();
        twin = null;
      }
      const retained = (layer: number, c: HookContext): tf.Tensor | null => {
        if (c.step < 0 || mode === 'exact') return twinStore.get(layer) ?? null;
        return mode === 'prompt-mean' ? (promptMean.get(layer) ?? null) : null;
      };
      const run = model.startDecoding(batch, editHooks(plans, iv.edit, retained));
      const toks: number[][] = Array.from({ length: B }, () => []);
      const done = new Array<boolean>(B).fill(false);
      const pRef = new Array<number>(B).fill(0);
      try {
        for (let step = 0; step < maxNew; step++) {
          const rows = await run.lastLogits();
          const next = rows.map(argmax);
          if (step === 0) rows.forEach((r, b) => (pRef[b] = softmaxAt(r, lens.codec.refusalTokenId)));
          next.forEach((t, b) => {
            if (done[b]) return;
            toks[b]!.push(t);
            if (stop.has(t)) done[b] = true;
          });
          if (done.every(Boolean) || step === maxNew - 1) break;
          twin?.push(next);
          run.push(next);
        }
      } finally {
        run.dispose();
        twin?.dispose();
        for (const t of [...twinStore.values(), ...promptMean.values()]) t.dispose();
      }
      ch.forEach((p, b) => {
        const t = toks[b]!;
        const cut = t.findIndex((x) => stop.has(x));
        out.push({ prompt: p.text, tokens: t, text: lens.codec.decode(cut >= 0 ? t.slice(0, cut) : t), pRefusal: pRef[b]! });
      });
      ctx.progress('interventions', out.length / prompts.length);
    }
  } finally {
    disposePlans(plans);
  }
  return out;
}

/**
 * Mean activation of `watch` features over the prompt (real tokens from skipPrefix), base vs with `clamp`
 * edited (no retention): the relative drop (base − clamped) / base, and P(refusal) at the last position.
 */
export async function clampEffect(
  lens: Lens,
  prompts: EncodedPrompt[],
  clamp: FeatureSet,
  edit: Edit,
  watch: FeatureSet,
  opts: { batchSize?: number } = {},
): Promise<{ baseMean: number; clampedMean: number; drop: number; pRefusalBase: number; pRefusalClamped: number }> {
  const plans = await planLayers(lens, { clamp, retain: watch });
  const sums = { base: 0, clamped: 0, n: 0, pBase: 0, pClamped: 0 };
  try {
    for (const ch of chunks(prompts, opts.batchSize ?? 8)) {
      const batch = leftPad(ch.map((p) => p.ids), lens.model.config.padTokenId);
      const mask = positionMask(batch, lens.codec.skipPrefix);
      for (const which of ['base', 'clamped'] as const) {
        const seen = new Map<number, tf.Tensor3D>();
        const observe = (l: number, f: tf.Tensor3D) => seen.set(l, tf.keep(f));
        const hooks = editHooks(plans, which === 'base' ? { mode: 'multiply', c: 1 } : edit, () => null, observe);
        const r = lens.model.forward(batch, { hooks });
        const logits = r.logits!;
        const V = lens.model.config.vocabSize;
        const last = tf.tidy(() => tf.softmax(tf.reshape(tf.slice(logits, [0, batch.T - 1, 0], [ch.length, 1, V]), [ch.length, V])));
        const p = last.dataSync();
        for (let b = 0; b < ch.length; b++) sums[which === 'base' ? 'pBase' : 'pClamped'] += p[b * V + lens.codec.refusalTokenId]!;
        tf.dispose([last, logits, ...r.cache.values()]);
        for (const plan of plans) {
          const f = seen.get(plan.layer)!;
          const data = f.dataSync();
          const rm = plan.retainMask.dataSync();
          const k = plan.slice.indices.length;
          for (let b = 0; b < ch.length; b++)
            for (let t = 0; t < batch.T; t++) {
              if (!mask[b]![t]) continue;
              for (let j = 0; j < k; j++) {
                if (!rm[j]) continue;
                sums[which] += data[(b * batch.T + t) * k + j]!;
                if (which === 'base') sums.n++;
              }
            }
          f.dispose();
        }
      }
    }
  } finally {
    disposePlans(plans);
  }
  const baseMean = sums.base / Math.max(1, sums.n);
  const clampedMean = sums.clamped / Math.max(1, sums.n);
  return {
    baseMean,
    clampedMean,
    drop: baseMean > 0 ? (baseMean - clampedMean) / baseMean : 0,
    pRefusalBase: sums.pBase / Math.max(1, prompts.length),
    pRefusalClamped: sums.pClamped / Math.max(1, prompts.length),
  };
}
