/**
 * The playground: one prompt, chat-formatted, three greedy generations side by side — the base model, the
 * chosen features clamped (multiply by c or set to v, at all / prompt / generated positions, METHOD §2.5: the
 * edit z + Σ (f'_i − f_i)·W_dec[i] at each touched layer's resid_post, stacked), and the refusal direction
 * ablated at every layer (§2.3) — with the chosen features' activation at every token of each column.
 *
 * Decoding is driven token by token on the model's KV-cache session (`startDecoding`), so the hooks that edit
 * the stream also record the features on the prompt pass and every decoding step; the last generated token is
 * pushed once more so every shown token has its activation. Greedy decoding here equals `model.generate`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hookNames, type CausalLM, type HookContext, type Hooks } from '../model/types.js';
import { encodeSlice, sliceSae, type SaeSlice } from '../sae/sae.js';
import type { SaeSet } from '../sae/set.js';
import { ablationHooks, type AblationSites } from '../refusal/hooks.js';
import { argmax } from '../features/source.js';

export type PlaygroundPositions = 'all' | 'prompt' | 'generated';
export type PlaygroundEdit = { mode: 'multiply'; c: number } | { mode: 'set'; v: number };

export interface FeatureRef {
  layer: number;
  index: number;
}

export interface PlaygroundColumn {
  kind: 'base' | 'clamped' | 'ablated';
  /** Generated text (special tokens skipped, stop token left out). */
  text: string;
  /** Prompt tokens then generated tokens (stop token included when produced). */
  tokens: string[];
  tokenIds: number[];
  /** Number of leading prompt tokens in `tokens`. */
  promptLength: number;
  /** acts[f][t]: feature f at token t (in the clamped column, the value after the edit). */
  acts: number[][];
  /** Clamped column only: the features' values before the edit at each token. */
  actsBeforeEdit?: number[][];
  /** Whether generation ended on a stop token. */
  stopped: boolean;
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

/**
 * Hooks that record the features at each plan layer and, when `edit` is given, apply it there first
 * (the recorded value is then the edited one; the value before is kept in `before`).
 */
function featureHooks(plans: Plan[], rec: Recorder, edit: PlaygroundEdit | null, positions: PlaygroundPositions): Hooks {
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
        const target = edit.mode === 'multiply' ? tf.mul(f, edit.c) : tf.fill(f.shape, edit.v);
        let delta = tf.sub(target, f);
        const sm = slotMask(positions, ctx, act.shape[1]);
        if (sm) delta = tf.mul(delta, sm);
        rec.push(rec.acts, p, tf.add(f, delta));
        const [B, T, d] = act.shape;
        const k = p.slice.indices.length;
        return tf.add(act, tf.reshape(tf.matMul(tf.reshape(delta, [B * T, k]), p.slice.W_dec), [B, T, d])) as tf.Tensor3D;
      });
    },
  }));
}

export interface DecodeResult {
  ids: number[];
  stopped: boolean;
}

/** Greedy decoding of one prompt with hooks; the last token is pushed too (its activations get recorded). */
export async function greedyDecode(
  model: CausalLM,
  promptIds: number[],
  hooks: Hooks,
  opts: { maxNewTokens: number; stopTokens: number[]; signal?: AbortSignal },
): Promise<DecodeResult> {
  if (!model.startDecoding) throw new Error('this model does not support stepwise decoding');
  const stop = new Set(opts.stopTokens);
  const sess = model.startDecoding({ inputIds: [promptIds] }, hooks);
  const ids: number[] = [];
  let stopped = false;
  try {
    for (let step = 0; step < opts.maxNewTokens; step++) {
      if (opts.signal?.aborted) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
      const [row] = await sess.lastLogits();
      const t = argmax(row!);
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

export interface PlaygroundInput {
  model: CausalLM;
  set: SaeSet;
  promptIds: number[];
  features: FeatureRef[];
  edit: PlaygroundEdit;
  positions: PlaygroundPositions;
  maxNewTokens: number;
  stopTokens: number[];
  direction: { vector: Float32Array; sites: AblationSites } | null;
  decode: (ids: number[]) => string;
  tokens: (ids: number[]) => string[];
  signal?: AbortSignal;
  onColumn?: (kind: PlaygroundColumn['kind'], done: number, of: number) => void;
}

export async function runPlayground(inp: PlaygroundInput): Promise<PlaygroundColumn[]> {
  const plans = planFeatures(inp.set, inp.features);
  const L = inp.model.config.nLayers;
  const kinds: Array<PlaygroundColumn['kind']> = inp.direction ? ['base', 'clamped', 'ablated'] : ['base', 'clamped'];
  const columns: PlaygroundColumn[] = [];
  try {
    for (const [ci, kind] of kinds.entries()) {
      const rec = new Recorder(inp.features.length);
      const ablate = kind === 'ablated' ? ablationHooks(inp.direction!.vector, Array.from({ length: L }, (_, l) => l), undefined, inp.direction!.sites) : null;
      const hooks: Hooks = [...(ablate?.hooks ?? []), ...featureHooks(plans, rec, kind === 'clamped' ? inp.edit : null, inp.positions)];
      let out: DecodeResult;
      try {
        out = await greedyDecode(inp.model, inp.promptIds, hooks, { maxNewTokens: inp.maxNewTokens, stopTokens: inp.stopTokens, signal: inp.signal });
      } finally {
        ablate?.dispose();
      }
      const all = [...inp.promptIds, ...out.ids];
      const stop = new Set(inp.stopTokens);
      const shown = out.stopped ? out.ids.filter((t, i) => !(i === out.ids.length - 1 && stop.has(t))) : out.ids;
      const col: PlaygroundColumn = {
        kind,
        text: inp.decode(shown),
        tokens: inp.tokens(all),
        tokenIds: all,
        promptLength: inp.promptIds.length,
        acts: rec.acts.map((a) => a.slice(0, all.length)),
        stopped: out.stopped,
      };
      if (kind === 'clamped') col.actsBeforeEdit = rec.before.map((a) => a.slice(0, all.length));
      columns.push(col);
      inp.onColumn?.(kind, ci + 1, kinds.length);
    }
  } finally {
    disposePlans(plans);
  }
  return columns;
}
