/**
 * Per-call hooks of the method: directional ablation (every layer), activation addition (one layer), and
 * feature clamping — the S1 sparse clamp by default, the literal SAE splice as the reference path. All work
 * during generation (the model calls hooks on the prompt pass and every decoding step).
 */
import * as tf from '@tensorflow/tfjs-core';
import { hookNames, type HookContext, type HookFn, type Hooks } from '../model/types.js';
import type { Sae } from '../sae/types.js';
import { sparseEncode, sparseSlice, type SparseSlice } from './sae-math.js';
import type { FeatureSet, SaeProvider } from './types.js';

/**
 * Where directional ablation applies: 'resid_post' of every layer (the reference, §2.3) or 'arditi' (every
 * block input resid_pre and every attn_out and mlp_out, as Arditi et al.; the stream never carries d̂).
 */
export type AblationSites = 'resid_post' | 'arditi';

/** z ← z − (z·d̂)d̂ at the given layers' sites (§2.3). `onPre` sees the pre-ablation resid_post. */
export function ablationHooks(
  direction: Float32Array | number[],
  layers: number[],
  onPre?: (layer: number, act: tf.Tensor3D, ctx: HookContext) => void,
  sites: AblationSites = 'resid_post',
): { hooks: Hooks; dispose(): void } {
  const v = tf.tensor1d(Array.from(direction));
  const dhat = tf.tidy(() => tf.reshape(tf.div(v, tf.maximum(tf.norm(v), 1e-12)), [-1, 1]) as tf.Tensor2D);
  v.dispose();
  const fn: HookFn = (act, ctx) => {
    if (onPre && ctx.layer !== null) onPre(ctx.layer, act, ctx);
    const [B, T, d] = act.shape;
    const z = tf.reshape(act, [B * T, d]);
    const proj = tf.matMul(z, dhat); // [BT,1]
    return tf.reshape(tf.sub(z, tf.matMul(proj, dhat, false, true)), [B, T, d]) as tf.Tensor3D;
  };
  const points =
    sites === 'resid_post'
      ? layers.map((l) => hookNames.residPost(l))
      : layers.flatMap((l) => [hookNames.residPre(l), hookNames.attnOut(l), hookNames.mlpOut(l)]);
  const plain: HookFn = (act, ctx) => fn(act, { ...ctx, layer: null });
  return {
    hooks: points.map((point) => ({ point, fn: sites === 'resid_post' ? fn : plain })),
    dispose: () => dhat.dispose(),
  };
}

/** z ← z + coeff·v at resid_post of one layer (the refusal-inducing AS, §2.3). */
export function actAddHook(direction: Float32Array | number[], layer: number, coeff = 1): { hooks: Hooks; dispose(): void } {
  const v = tf.tidy(() => tf.mul(tf.tensor1d(Array.from(direction)), coeff) as tf.Tensor1D);
  return {
    hooks: [{ point: hookNames.residPost(layer), fn: (act) => tf.add(act, v) as tf.Tensor3D }],
    dispose: () => v.dispose(),
  };
}

export type ClampEdit = { mode: 'multiply'; c: number } | { mode: 'set'; v: number };
/** Which slots are clamped: all (reference), prompt only, generated only, or per row from a slot on. */
export type ClampPositions = 'all' | 'prompt' | 'generated' | { fromSlot: number[] };

export interface ClampOptions {
  edit: ClampEdit;
  positions?: ClampPositions;
  /** 'sparse' (S1, default) or 'literal' (full SAE encode/decode with the error term). */
  path?: 'sparse' | 'literal';
}

export interface PreparedClamp {
  hooks: Hooks;
  layers: number[];
  dispose(): void;
}

/** [B, T, 1] mask of clamped slots for this call. */
function slotMask(pos: ClampPositions, ctx: HookContext, B: number, T: number): tf.Tensor | null {
  if (pos === 'all') return null;
  const rows: number[][] = [];
  for (let b = 0; b < B; b++) {
    const r: number[] = [];
    for (let t = 0; t < T; t++) {
      const slot = ctx.offset + t;
      let on: boolean;
      if (pos === 'prompt') on = slot < ctx.promptLength;
      else if (pos === 'generated') on = slot >= ctx.promptLength;
      else on = slot >= pos.fromSlot[b];
      r.push(on ? 1 : 0);
    }
    rows.push(r);
  }
  return tf.tensor3d(rows.map((r) => r.map((x) => [x])), [B, T, 1]);
}

/**
 * Clamp hooks for a batch whose row b uses rowSets[b] (pass the same set B times for a global set).
 * Sparse (S1): z' = z + Σ_{i∈S_b} (f'_i − f_i)·W_dec[i], only |∪S| columns per layer held.
 * Literal: f = enc(z), ε = z − dec(f), z' = dec(f') + ε with the whole SAE.
 */
export async function prepareClamp(
  saes: SaeProvider,
  rowSets: FeatureSet[],
  opts: ClampOptions,
): Promise<PreparedClamp> {
  const B = rowSets.length;
  const pos = opts.positions ?? 'all';
  const path = opts.path ?? 'sparse';
  const byLayer = new Map<number, Set<number>>();
  for (const s of rowSets) for (const f of s) {
    if (!byLayer.has(f.layer)) byLayer.set(f.layer, new Set());
    byLayer.get(f.layer)!.add(f.index);
  }
  const layers = [...byLayer.keys()].sort((a, b) => a - b);
  const owned: Array<{ dispose(): void }> = [];
  const held: Sae[] = [];
  const hooks: Array<{ point: string; fn: HookFn }> = [];
  for (const l of layers) {
    const union = [...byLayer.get(l)!].sort((a, b) => a - b);
    const col = new Map(union.map((i, k) => [i, k]));
    const rowMask = rowSets.map((s) => {
      const r = new Array(union.length).fill(0);
      for (const f of s) if (f.layer === l) r[col.get(f.index)!] = 1;
      return r;
    });
    const sae = await saes.get(l);
    if (path === 'sparse' && sae.meta.architecture !== 'topk') {
      const slice: SparseSlice = sparseSlice(sae, union);
      saes.release(sae);
      const m = tf.tensor3d(rowMask.map((r) => [r]), [B, 1, union.length]); // [B,1,k]
      owned.push(slice, m);
      hooks.push({
        point: hookNames.residPost(l),
        fn: (act, ctx) => {
          const [b, T, d] = act.shape;
          if (b !== B) throw new Error(`clamp prepared for ${B} rows, called with ${b}`);
          const f = sparseEncode(slice, act); // [B,T,k]
          const target = opts.edit.mode === 'multiply' ? tf.mul(f, opts.edit.c) : tf.fill(f.shape, opts.edit.v);
          let delta = tf.mul(tf.sub(target, f), m);
          const sm = slotMask(pos, ctx, B, T);
          if (sm) delta = tf.mul(delta, sm);
          const add = tf.reshape(tf.matMul(tf.reshape(delta, [B * T, union.length]), slice.W_dec), [B, T, d]);
          return tf.add(act, add) as tf.Tensor3D;
        },
      });
    } else {
      held.push(sae);
      const idx = tf.tensor1d(union, 'int32');
      const dSae = sae.meta.dSae;
      // full-width row mask [B,1,dSae]
      const full = rowMask.map((r) => {
        const a = new Array(dSae).fill(0);
        r.forEach((on, k) => (a[union[k]] = on));
        return [a];
      });
      const m = tf.tensor3d(full, [B, 1, dSae]);
      owned.push(idx, m);
      hooks.push({
        point: hookNames.residPost(l),
        fn: (act, ctx) => {
          const [b, T] = act.shape;
          if (b !== B) throw new Error(`clamp prepared for ${B} rows, called with ${b}`);
          const f = sae.encode(act) as tf.Tensor3D;
          const err = tf.sub(act, sae.decode(f));
          const target = opts.edit.mode === 'multiply' ? tf.mul(f, opts.edit.c) : tf.fill(f.shape, opts.edit.v);
          let sel = m;
          const sm = slotMask(pos, ctx, B, T);
          if (sm) sel = tf.mul(m, sm) as tf.Tensor3D;
          const f2 = tf.add(tf.mul(target, sel), tf.mul(f, tf.sub(1, sel)));
          return tf.add(sae.decode(f2), err) as tf.Tensor3D;
        },
      });
    }
  }
  return {
    hooks,
    layers,
    dispose() {
      for (const o of owned) o.dispose();
      for (const s of held) saes.release(s);
    },
  };
}
