/**
 * The playground: one prompt, chat-formatted, generated side by side by the base model and under each chosen
 * intervention, with the chosen features' activation at every token of each completion:
 *  - clamp: the features multiplied by c or set to v (at all / prompt / generated positions, METHOD §2.5: the
 *    edit z + Σ (f'_i − f_i)·W_dec[i] at each touched layer's resid_post, stacked);
 *  - add: additive steering z + α·Σ_i W_dec[i] at each feature's layer (the decoder row as stored: unit norm
 *    for Gemma Scope and most SAEs), at the chosen positions;
 *  - actadd: activation addition z + c·r of the refusal direction r (as stored, unnormalised diff-in-means)
 *    at resid_post of the direction's layer, every position (Arditi et al.);
 *  - ablate: the refusal direction projected out at every layer (§2.3).
 * Decoding is greedy, or seeded sampling (temperature, top-k, top-p) with n completions (seed, seed+1, …).
 *
 * Decoding is driven token by token on the model's KV-cache session (`startDecoding`), so the hooks that edit
 * the stream also record the features on the prompt pass and every decoding step; the last generated token is
 * pushed once more so every shown token has its activation. Greedy decoding here equals `model.generate`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hookNames, type CausalLM, type HookContext, type Hooks } from '../model/types.js';
import { sample } from '../model/transformer.js';
import { encodeSlice, sliceSae, type SaeSlice } from '../sae/sae.js';
import type { SaeSet } from '../sae/set.js';
import { ablationHooks, actAddHook, type AblationSites } from '../refusal/hooks.js';
import { argmax } from '../features/source.js';
import { mulberry32 } from '../../common/suites/ops.js';

export type PlaygroundPositions = 'all' | 'prompt' | 'generated';
export type PlaygroundEdit = { mode: 'multiply'; c: number } | { mode: 'set'; v: number };

export interface FeatureRef {
  layer: number;
  index: number;
}

/** What a column does to the stream. */
export type Intervention =
  | { kind: 'clamp'; edit: PlaygroundEdit; positions: PlaygroundPositions }
  | { kind: 'add'; alpha: number; positions: PlaygroundPositions }
  | { kind: 'actadd'; coefficient: number; layer?: number }
  | { kind: 'ablate' };

export type ColumnKind = 'base' | 'clamped' | 'steered' | 'actadd' | 'ablated';

const COLUMN_KIND: Record<Intervention['kind'], ColumnKind> = { clamp: 'clamped', add: 'steered', actadd: 'actadd', ablate: 'ablated' };

/** Greedy when absent or temperature 0; completion k of n is drawn with seed + k. */
export interface Sampling {
  temperature: number;
  topK?: number;
  topP?: number;
  seed: number;
}

export interface Completion {
  /** Generated text (special tokens skipped, stop token left out). */
  text: string;
  /** Prompt tokens then generated tokens (stop token included when produced). */
  tokens: string[];
  tokenIds: number[];
  /** acts[f][t]: feature f at token t (where the column edits the features, the value after the edit). */
  acts: number[][];
  /** Columns that edit the features: their values before the edit at each token. */
  actsBeforeEdit?: number[][];
  /** Whether generation ended on a stop token. */
  stopped: boolean;
  /** The judge's verdict (filled in by the step). */
  verdict?: { refused?: boolean; jailbroken?: boolean; score?: number; raw?: string; invalid?: boolean };
  /** The seed this completion was sampled with (absent when greedy). */
  seed?: number;
}

/** One column: the first completion's fields at top level (what a single-completion view reads), all completions. */
export interface PlaygroundColumn extends Completion {
  kind: ColumnKind;
  intervention: Intervention | null;
  /** Number of leading prompt tokens in `tokens`. */
  promptLength: number;
  completions: Completion[];
}

/** Parse `[[l,i]]`, `{layer,index}` or `"L3/12"` feature lists. */
export function parseFeatures(raw: unknown): FeatureRef[] {
  if (raw == null) return [];
  if (!Array.isArray(raw)) throw new Error('features: expected a list of [layer, index] pairs or "L{layer}/{index}" ids');
  const out: FeatureRef[] = [];
  for (const f of raw) {
    let r: FeatureRef | null = null;
    if (Array.isArray(f) && f.length === 2) r = { layer: Number(f[0]), index: Number(f[1]) };
    else if (typeof f === 'string') {
      const m = /^\s*L?(\d+)\s*[/:,]\s*(\d+)\s*$/i.exec(f);
      if (m) r = { layer: Number(m[1]), index: Number(m[2]) };
    } else if (f && typeof f === 'object') r = { layer: Number((f as FeatureRef).layer), index: Number((f as FeatureRef).index) };
    if (!r || !Number.isInteger(r.layer) || !Number.isInteger(r.index) || r.layer < 0 || r.index < 0)
      throw new Error(`not a feature: ${JSON.stringify(f)} (use [layer, index] or "L{layer}/{index}")`);
    if (!out.some((o) => o.layer === r!.layer && o.index === r!.index)) out.push(r);
  }
  return out;
}

interface Plan {
  layer: number;
  slice: SaeSlice;
  /** Positions in the feature list of this layer's slice columns. */
  featurePos: number[];
}

/** One slice per touched layer (the listed features only: S1). */
export function planFeatures(set: SaeSet, features: FeatureRef[]): Plan[] {
  const byLayer = new Map<number, number[]>();
  features.forEach((f, k) => {
    if (!set.has(f.layer)) throw new Error(`no SAE for layer ${f.layer} (have ${set.layers.join(', ')})`);
    const dSae = set.meta(f.layer).dSae;
    if (f.index >= dSae) throw new Error(`L${f.layer}/${f.index}: the layer's SAE has ${dSae} features`);
    if (!byLayer.has(f.layer)) byLayer.set(f.layer, []);
    byLayer.get(f.layer)!.push(k);
  });
  const plans: Plan[] = [];
  for (const [layer, pos] of [...byLayer.entries()].sort((a, b) => a[0] - b[0])) {
    const wasResident = set.isResident(layer);
    const sae = set.get(layer);
    const slice = sliceSae(sae, pos.map((k) => features[k]!.index));
    if (!wasResident) set.drop(layer);
    plans.push({ layer, slice, featurePos: pos });
  }
  return plans;
}

export function disposePlans(plans: Plan[]): void {
  for (const p of plans) p.slice.dispose();
}

function slotMask(pos: PlaygroundPositions, ctx: HookContext, T: number): tf.Tensor | null {
  if (pos === 'all') return null;
  const m: number[] = [];
  for (let t = 0; t < T; t++) {
    const prompt = ctx.offset + t < ctx.promptLength;
    m.push((pos === 'prompt' ? prompt : !prompt) ? 1 : 0);
  }
  return tf.tensor3d([m.map((x) => [x])], [1, T, 1]);
}

/** Records per feature, per token (one row batch). */
class Recorder {
  readonly acts: number[][];
  readonly before: number[][];
  constructor(n: number) {
    this.acts = Array.from({ length: n }, () => []);
    this.before = Array.from({ length: n }, () => []);
  }
  push(target: number[][], plan: Plan, f: tf.Tensor): void {
    const k = plan.featurePos.length;
    const d = f.dataSync();
    const T = d.length / k;
    for (let t = 0; t < T; t++) for (let j = 0; j < k; j++) target[plan.featurePos[j]!]!.push(d[t * k + j]!);
  }
}

type FeatureEdit = { kind: 'clamp'; edit: PlaygroundEdit; positions: PlaygroundPositions } | { kind: 'add'; alpha: number; positions: PlaygroundPositions };

/**
 * Hooks that record the features at each plan layer and, when `edit` is given, apply it there first
 * (the recorded value is then the edited one — for additive steering, the features of the steered stream —;
 * the value before is kept in `before`).
 */
function featureHooks(plans: Plan[], rec: Recorder, edit: FeatureEdit | null): Hooks {
  return plans.map((p) => ({
    point: hookNames.residPost(p.layer),
    fn: (act: tf.Tensor3D, ctx: HookContext) => {
      if (act.shape[0] !== 1) throw new Error('the playground decodes one prompt at a time');
      const f = encodeSlice(p.slice, act);
      if (!edit) {
        rec.push(rec.acts, p, f);
        f.dispose();
        return;
      }
      return tf.tidy(() => {
        rec.push(rec.before, p, f);
        const [B, T, d] = act.shape;
        const k = p.slice.indices.length;
        const sm = slotMask(edit.positions, ctx, act.shape[1]);
        if (edit.kind === 'add') {
          // α·Σ W_dec[i] over this layer's chosen features, at the masked slots
          let add: tf.Tensor = tf.reshape(tf.mul(tf.sum(p.slice.W_dec, 0), edit.alpha), [1, 1, d]);
          if (sm) add = tf.mul(add, sm);
          const out = tf.add(act, add) as tf.Tensor3D;
          rec.push(rec.acts, p, encodeSlice(p.slice, out));
          return out;
        }
        const e = edit.edit;
        const target = e.mode === 'multiply' ? tf.mul(f, e.c) : tf.fill(f.shape, e.v);
        let delta = tf.sub(target, f);
        if (sm) delta = tf.mul(delta, sm);
        rec.push(rec.acts, p, tf.add(f, delta));
        return tf.add(act, tf.reshape(tf.matMul(tf.reshape(delta, [B * T, k]), p.slice.W_dec), [B, T, d])) as tf.Tensor3D;
      });
    },
  }));
}

export interface DecodeResult {
  ids: number[];
  stopped: boolean;
}

/** Greedy (or seeded sampling) decoding of one prompt with hooks; the last token is pushed too (its activations get recorded). */
export async function decodeOne(
  model: CausalLM,
  promptIds: number[],
  hooks: Hooks,
  opts: { maxNewTokens: number; stopTokens: number[]; sampling?: Sampling | null; signal?: AbortSignal },
): Promise<DecodeResult> {
  if (!model.startDecoding) throw new Error('this model does not support stepwise decoding');
  const stop = new Set(opts.stopTokens);
  const s = opts.sampling && opts.sampling.temperature > 0 ? opts.sampling : null;
  const rng = s ? mulberry32(s.seed) : null;
  const sess = model.startDecoding({ inputIds: [promptIds] }, hooks);
  const ids: number[] = [];
  let stopped = false;
  try {
    for (let step = 0; step < opts.maxNewTokens; step++) {
      if (opts.signal?.aborted) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
      const [row] = await sess.lastLogits();
      const t = s && rng ? sample(row!, s, rng) : argmax(row!);
      ids.push(t);
      sess.push([t]); // also records the token's activations
      if (stop.has(t)) {
        stopped = true;
        break;
      }
    }
  } finally {
    sess.dispose();
  }
  return { ids, stopped };
}

/** Greedy decoding (kept for callers of the first playground). */
export function greedyDecode(model: CausalLM, promptIds: number[], hooks: Hooks, opts: { maxNewTokens: number; stopTokens: number[]; signal?: AbortSignal }): Promise<DecodeResult> {
  return decodeOne(model, promptIds, hooks, opts);
}

export interface PlaygroundInput {
  model: CausalLM;
  set: SaeSet;
  promptIds: number[];
  /** Features whose activations are shown (and that clamp / add act on). */
  features: FeatureRef[];
  /** Columns after the base one; default: clamp with edit/positions, then ablate when there is a direction. */
  interventions?: Intervention[];
  edit?: PlaygroundEdit;
  positions?: PlaygroundPositions;
  maxNewTokens: number;
  stopTokens: number[];
  direction: { vector: Float32Array; sites: AblationSites; layer?: number | null } | null;
  sampling?: Sampling | null;
  /** Completions per column (sampling only; greedy gives one). */
  n?: number;
  decode: (ids: number[]) => string;
  tokens: (ids: number[]) => string[];
  signal?: AbortSignal;
  onColumn?: (kind: ColumnKind, done: number, of: number) => void;
}

function interventionHooks(iv: Intervention | null, inp: PlaygroundInput): { hooks: Hooks; dispose(): void } | null {
  if (!iv || iv.kind === 'clamp' || iv.kind === 'add') return null;
  const dir = inp.direction;
  if (!dir) throw new Error(`${iv.kind === 'ablate' ? 'direction ablation' : 'activation addition'} needs a refusal direction (run a discovery first)`);
  const L = inp.model.config.nLayers;
  if (iv.kind === 'ablate') return ablationHooks(dir.vector, Array.from({ length: L }, (_, l) => l), undefined, dir.sites);
  const layer = iv.layer ?? dir.layer ?? L - 1;
  if (!Number.isInteger(layer) || layer < 0 || layer >= L) throw new Error(`activation addition at layer ${layer}: the model has ${L} layers`);
  return actAddHook(dir.vector, layer, iv.coefficient);
}

export async function runPlayground(inp: PlaygroundInput): Promise<PlaygroundColumn[]> {
  const ivs: Intervention[] =
    inp.interventions ?? [{ kind: 'clamp', edit: inp.edit ?? { mode: 'multiply', c: -3 }, positions: inp.positions ?? 'all' }, ...(inp.direction ? [{ kind: 'ablate' } as const] : [])];
  const plans = planFeatures(inp.set, inp.features);
  const sampled = !!inp.sampling && inp.sampling.temperature > 0;
  const n = sampled ? Math.max(1, Math.floor(inp.n ?? 1)) : 1;
  const all: Array<Intervention | null> = [null, ...ivs];
  const columns: PlaygroundColumn[] = [];
  const stop = new Set(inp.stopTokens);
  try {
    for (const [ci, iv] of all.entries()) {
      const kind: ColumnKind = iv ? COLUMN_KIND[iv.kind] : 'base';
      const completions: Completion[] = [];
      for (let k = 0; k < n; k++) {
        const rec = new Recorder(inp.features.length);
        const extra = interventionHooks(iv, inp);
        const edit = iv && (iv.kind === 'clamp' || iv.kind === 'add') ? iv : null;
        const hooks: Hooks = [...(extra?.hooks ?? []), ...featureHooks(plans, rec, edit)];
        const seed = sampled ? inp.sampling!.seed + k : undefined;
        let out: DecodeResult;
        try {
          out = await decodeOne(inp.model, inp.promptIds, hooks, {
            maxNewTokens: inp.maxNewTokens,
            stopTokens: inp.stopTokens,
            sampling: sampled ? { ...inp.sampling!, seed: seed! } : null,
            signal: inp.signal,
          });
        } finally {
          extra?.dispose();
        }
        const ids = [...inp.promptIds, ...out.ids];
        const shown = out.stopped ? out.ids.filter((t, i) => !(i === out.ids.length - 1 && stop.has(t))) : out.ids;
        const c: Completion = {
          text: inp.decode(shown),
          tokens: inp.tokens(ids),
          tokenIds: ids,
          acts: rec.acts.map((a) => a.slice(0, ids.length)),
          stopped: out.stopped,
          ...(edit ? { actsBeforeEdit: rec.before.map((a) => a.slice(0, ids.length)) } : {}),
          ...(seed !== undefined ? { seed } : {}),
        };
        completions.push(c);
      }
      columns.push({ ...completions[0]!, kind, intervention: iv, promptLength: inp.promptIds.length, completions });
      inp.onColumn?.(kind, ci + 1, all.length);
    }
  } finally {
    disposePlans(plans);
  }
  return columns;
}
