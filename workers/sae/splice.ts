/**
 * Splicing an SAE into the residual stream with the error term kept (METHOD §2.5):
 *   f = enc(x);  ε = x − dec(f);  f' = edit(f);  out = dec(f') + ε
 * and the S1 shortcut that touches only the edited features (METHOD "Exact shortcuts"):
 *   z' = z + Σ_{i∈S} (f'_i − f_i(z))·W_dec[i]
 * Both return a `HookFn` (workers/model/types.ts), run on the prompt pass and on every KV-cached decoding
 * step (ctx.step ≥ 0, one position per call).
 *
 * Edit semantics: shared edits apply first, in order, then each sample's own edits (aligned to the
 * batch index), in order. Each edit multiplies (`f'_i = c·f_i`) or sets (`f'_i = v`) its features at the
 * positions it names: all; prompt only (ctx.step = −1 or slot < ctx.promptLength); or from a slot
 * (in the left-padded sequence) onward, one slot for all its features or one per feature.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HookContext, HookFn, Hooks } from '../model/types.js';
import { activate, to2d, type SaeSlice } from './sae.js';
import type { Sae } from './types.js';

export type EditPositions = 'all' | 'prompt' | { from: number | number[] };

export interface FeatureEdit {
  /** SAE feature indices. */
  features: number[];
  op: 'multiply' | 'set';
  /** One value for every feature or one per feature. */
  value: number | number[];
  /** Default 'all'. */
  positions?: EditPositions;
}

export interface EditSpec {
  /** Edits for every sample. */
  edits?: FeatureEdit[];
  /** Edits per sample, index = batch index (length must equal the batch size when given). */
  perSample?: ReadonlyArray<FeatureEdit[] | null | undefined>;
}

export interface SpliceOptions extends EditSpec {
  /**
   * Gradient leaf: a zero tensor δ [B, T, dSae] (or a function giving it per call; return nothing on
   * calls that need none, e.g. decoding steps). The hook uses f + δ in place of f (ε is computed from f),
   * so tf.grads w.r.t. δ gives ∂m/∂f at this layer.
   */
  delta?: tf.Tensor | ((ctx: HookContext) => tf.Tensor | null | undefined);
  /** Observe f (+δ, before the edit) [B, T_call, dSae]; the tensor is disposed after the call. */
  onFeatures?: (f: tf.Tensor3D, ctx: HookContext) => void;
}

type Rule = { kind: 'all' } | { kind: 'prompt' } | { kind: 'from'; from: number };

interface Step {
  rule: Rule;
  /** keep − 1 and set, [rows, width] with rows = 1 (shared) or B. */
  rows: number;
  keepMinus1: Float32Array;
  set: Float32Array;
}

function ruleKey(r: Rule): string {
  return r.kind === 'from' ? `from:${r.from}` : r.kind;
}

function atoms(e: FeatureEdit): Array<{ rule: Rule; feature: number; value: number }> {
  const vals = Array.isArray(e.value) ? e.value : e.features.map(() => e.value as number);
  if (vals.length !== e.features.length) throw new Error(`edit has ${e.features.length} features but ${vals.length} values`);
  const pos = e.positions ?? 'all';
  return e.features.map((feature, j) => {
    let rule: Rule;
    if (pos === 'all') rule = { kind: 'all' };
    else if (pos === 'prompt') rule = { kind: 'prompt' };
    else {
      const from = Array.isArray(pos.from) ? pos.from[j] : pos.from;
      if (from === undefined || !Number.isInteger(from)) throw new Error(`edit positions.from must give an integer slot for feature ${feature}`);
      rule = { kind: 'from', from };
    }
    return { rule, feature, value: vals[j]! };
  });
}

/**
 * Compile edits to steps over a feature tensor of `width` columns; `col(i)` maps a feature index to its
 * column (identity for the literal splice, slice position for S1).
 */
function compile(spec: EditSpec, B: number, width: number, col: (i: number) => number): Step[] {
  const steps: Step[] = [];
  const fill = (s: Step, row: number, feature: number, op: FeatureEdit['op'], value: number) => {
    const c = col(feature);
    const o = row * width + c;
    if (op === 'multiply') {
      s.keepMinus1[o] = value - 1;
      s.set[o] = 0;
    } else {
      s.keepMinus1[o] = -1;
      s.set[o] = value;
    }
  };
  const newStep = (rule: Rule, rows: number): Step => ({ rule, rows, keepMinus1: new Float32Array(rows * width), set: new Float32Array(rows * width) });
  for (const e of spec.edits ?? []) {
    const byRule = new Map<string, Step>();
    for (const a of atoms(e)) {
      const k = ruleKey(a.rule);
      if (!byRule.has(k)) byRule.set(k, newStep(a.rule, 1));
      fill(byRule.get(k)!, 0, a.feature, e.op, a.value);
    }
    steps.push(...byRule.values());
  }
  if (spec.perSample) {
    if (spec.perSample.length !== B) throw new Error(`perSample has ${spec.perSample.length} entries but the batch has ${B} samples`);
    const depth = Math.max(0, ...spec.perSample.map((l) => l?.length ?? 0));
    for (let j = 0; j < depth; j++) {
      const byRule = new Map<string, Step>();
      spec.perSample.forEach((list, b) => {
        const e = list?.[j];
        if (!e) return;
        for (const a of atoms(e)) {
          const k = ruleKey(a.rule);
          if (!byRule.has(k)) byRule.set(k, newStep(a.rule, B));
          fill(byRule.get(k)!, b, a.feature, e.op, a.value);
        }
      });
      steps.push(...byRule.values());
    }
  }
  return steps;
}

/** [1, T_call, 1] mask of the call's positions a rule covers, or null when it covers all of them. */
function positionMask(rule: Rule, ctx: HookContext, T: number): number[] | null {
  if (rule.kind === 'all') return null;
  const m: number[] = [];
  for (let t = 0; t < T; t++) {
    const slot = ctx.offset + t;
    m.push(rule.kind === 'prompt' ? (ctx.step === -1 || slot < ctx.promptLength ? 1 : 0) : slot >= rule.from ? 1 : 0);
  }
  return m.every((v) => v === 1) ? null : m;
}

/** Apply compiled steps to f [B, T, width]. */
function applySteps(f: tf.Tensor3D, steps: Step[], ctx: HookContext): tf.Tensor3D {
  const [B, T, W] = f.shape;
  let cur: tf.Tensor3D = f;
  for (const s of steps) {
    const m = positionMask(s.rule, ctx, T);
    if (m && m.every((v) => v === 0)) continue;
    const km1 = tf.tensor3d(s.keepMinus1, [s.rows, 1, W]);
    const set = tf.tensor3d(s.set, [s.rows, 1, W]);
    let delta: tf.Tensor = tf.add(tf.mul(cur, km1), set);
    if (m) delta = tf.mul(delta, tf.tensor3d(m, [1, T, 1]));
    cur = tf.add(cur, delta) as tf.Tensor3D;
  }
  void B;
  return cur;
}

function hasEdits(spec: EditSpec): boolean {
  return (spec.edits?.length ?? 0) > 0 || (spec.perSample?.some((l) => (l?.length ?? 0) > 0) ?? false);
}

/** The literal splice at one hook point. */
export function spliceHook(sae: Sae, opts: SpliceOptions = {}): HookFn {
  const dSae = sae.meta.dSae;
  const cache = new Map<number, Step[]>();
  const check = (i: number) => {
    if (!Number.isInteger(i) || i < 0 || i >= dSae) throw new RangeError(`feature index ${i} out of range [0, ${dSae}) for ${sae.meta.id}`);
    return i;
  };
  return (act, ctx) => {
    const [B, T, d] = act.shape;
    if (d !== sae.meta.dIn) throw new Error(`${sae.meta.id}: activation width ${d} at ${ctx.point} but the SAE's d_in is ${sae.meta.dIn}`);
    if (!cache.has(B)) cache.set(B, hasEdits(opts) || opts.perSample ? compile(opts, B, dSae, check) : []);
    const steps = cache.get(B)!;
    // A fixed δ tensor is for the full/prompt pass; decoding steps (one position) skip it.
    const delta = typeof opts.delta === 'function' ? opts.delta(ctx) : ctx.step >= 0 ? undefined : opts.delta;
    return tf.tidy(() => {
      const f = sae.encode(act) as tf.Tensor3D;
      const eps = tf.sub(act, sae.decode(f));
      let ft: tf.Tensor3D = f;
      if (delta) {
        if (delta.shape.join() !== [B, T, dSae].join()) throw new Error(`delta has shape [${delta.shape}], expected [${B}, ${T}, ${dSae}]`);
        ft = tf.add(f, delta) as tf.Tensor3D;
      }
      if (opts.onFeatures) opts.onFeatures(ft, ctx);
      const fe = applySteps(ft, steps, ctx);
      return tf.add(sae.decode(fe), eps) as tf.Tensor3D;
    });
  };
}

/**
 * S1: the clamp from only the edited features' encoder columns and decoder rows (a `SaeSlice`, from
 * `sliceSae(sae, S)` or `SaeSource.loadSlice(S)` without loading the SAE). Equal to `spliceHook` with the
 * same edits (not for TopK SAEs).
 */
export function clampHook(slice: SaeSlice, spec: EditSpec): HookFn {
  const colOf = new Map(slice.indices.map((f, j) => [f, j]));
  const col = (i: number) => {
    const c = colOf.get(i);
    if (c === undefined) throw new Error(`feature ${i} is not in the slice (${slice.meta.id}); load a slice holding every edited feature`);
    return c;
  };
  const cache = new Map<number, Step[]>();
  const W = slice.indices.length;
  return (act, ctx) => {
    const [B, , d] = act.shape;
    if (d !== slice.meta.dIn) throw new Error(`${slice.meta.id}: activation width ${d} at ${ctx.point} but the SAE's d_in is ${slice.meta.dIn}`);
    if (!cache.has(B)) cache.set(B, compile(spec, B, W, col));
    const steps = cache.get(B)!;
    if (!steps.length || W === 0) return;
    return tf.tidy(() => {
      const { x2 } = to2d(act);
      const [b0, t0] = act.shape;
      const xin = slice.meta.applyBDecToInput ? tf.sub(x2, slice.b_dec) : x2;
      const pre = tf.add(tf.matMul(xin, slice.W_enc), slice.b_enc);
      const fS = tf.reshape(activate(pre, slice.meta.architecture, slice.threshold, null), [b0, t0, W]) as tf.Tensor3D;
      const fE = applySteps(fS, steps, ctx);
      const diff = tf.reshape(tf.sub(fE, fS), [-1, W]) as tf.Tensor2D;
      return tf.add(act, tf.reshape(tf.matMul(diff, slice.W_dec), act.shape)) as tf.Tensor3D;
    });
  };
}

/** Literal splices at many layers in one forward: one hook per SAE at its hook point. */
export function spliceHooks(entries: ReadonlyArray<{ sae: Sae } & SpliceOptions>): Hooks {
  return entries.map(({ sae, ...o }) => {
    if (!sae.meta.hookPoint) throw new Error(`${sae.meta.id} has no hook point: pass the layer/hookPoint option when loading`);
    return { point: sae.meta.hookPoint, fn: spliceHook(sae, o) };
  });
}

/** S1 clamps at many layers. */
export function clampHooks(entries: ReadonlyArray<{ slice: SaeSlice } & EditSpec>): Hooks {
  return entries.map(({ slice, ...o }) => ({ point: slice.meta.hookPoint, fn: clampHook(slice, o) }));
}

/** Feature indices an edit spec touches (the set S to slice for `clampHook`). */
export function editedFeatures(spec: EditSpec): number[] {
  const s = new Set<number>();
  for (const e of spec.edits ?? []) e.features.forEach((i) => s.add(i));
  for (const l of spec.perSample ?? []) for (const e of l ?? []) e.features.forEach((i) => s.add(i));
  return [...s].sort((a, b) => a - b);
}

/**
 * Gradient leaves for spliced layers: zero δ per layer, shaped [B, T, dSae]. Pass `delta: leaves.get(l)`
 * (only used when T matches: the prompt/full pass) and tf.grads(() => metric, [...leaves.values()]).
 */
export function zeroDeltas(saes: ReadonlyArray<Sae>, B: number, T: number): Map<number, tf.Tensor3D> {
  return new Map(saes.map((s) => [s.meta.layer, tf.zeros([B, T, s.meta.dSae]) as tf.Tensor3D]));
}
