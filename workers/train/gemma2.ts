/**
 * A compact, trainable Gemma-2 forward for small models (the demo model trainer and its checks).
 *
 * Same mathematics as Hugging Face's Gemma2ForCausalLM: embeddings scaled by √d, RMSNorm with (1 + w),
 * pre- and post-norms around attention and MLP, RoPE (rotate-half), query_pre_attn_scalar^-½ scaling,
 * attention and final logit soft-capping, gelu-tanh gated MLP, tied embeddings. Differences are only in
 * execution, chosen for tfjs gradients on wasm: the embedding lookup is oneHot·matMul (tf.gather's
 * gradient needs UnsortedSegmentSum, not registered on wasm), projections are held as [in, out]
 * (so every matmul is a plain 2-D one), and there is no padding: sequences in a batch are right-padded
 * and only causal masking is applied (pads come after every real token, so they never influence one).
 *
 * Hook points use the workbench names (hook_embed, blocks.l.hook_resid_pre / hook_attn_out /
 * hook_mlp_out / hook_resid_post, ln_final.hook_normalized); a hook may replace the activation.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../model/types.js';
import { Rng } from '../demo/prng.js';

/** Internal parameter layout: HF names; 2-D projections transposed to [in, out]; embeddings [V, d]. */
export type Params = Record<string, tf.Tensor>;

export const isProjection = (name: string) => /_proj\.weight$/.test(name);

export function parameterShapes(cfg: ModelConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const d = cfg.dModel;
  const qd = cfg.nHeads * cfg.headDim;
  const kvd = cfg.nKvHeads * cfg.headDim;
  m.set('model.embed_tokens.weight', [cfg.vocabSize, d]);
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `model.layers.${l}`;
    m.set(`${p}.input_layernorm.weight`, [d]);
    m.set(`${p}.self_attn.q_proj.weight`, [d, qd]);
    m.set(`${p}.self_attn.k_proj.weight`, [d, kvd]);
    m.set(`${p}.self_attn.v_proj.weight`, [d, kvd]);
    m.set(`${p}.self_attn.o_proj.weight`, [qd, d]);
    m.set(`${p}.post_attention_layernorm.weight`, [d]);
    m.set(`${p}.pre_feedforward_layernorm.weight`, [d]);
    m.set(`${p}.mlp.gate_proj.weight`, [d, cfg.dMlp]);
    m.set(`${p}.mlp.up_proj.weight`, [d, cfg.dMlp]);
    m.set(`${p}.mlp.down_proj.weight`, [cfg.dMlp, d]);
    m.set(`${p}.post_feedforward_layernorm.weight`, [d]);
  }
  m.set('model.norm.weight', [d]);
  return m;
}

/** Seeded initialisation (normal, std 0.02·scale; norms zero i.e. unit gain; output projections scaled by 1/√(2L)). */
export function initParams(cfg: ModelConfig, seed: number): Record<string, { shape: number[]; data: Float32Array }> {
  const rng = new Rng(seed);
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, shape] of parameterShapes(cfg)) {
    const n = shape.reduce((a, x) => a * x, 1);
    const data = new Float32Array(n);
    if (shape.length === 2) {
      let std = name.includes('embed_tokens') ? 1 / Math.sqrt(cfg.dModel) : 1 / Math.sqrt(shape[0]!);
      if (/o_proj|down_proj/.test(name)) std /= Math.sqrt(2 * cfg.nLayers);
      for (let i = 0; i < n; i++) data[i] = rng.normal() * std;
    }
    out[name] = { shape, data };
  }
  return out;
}

/** Internal layout → HF layout (projections transposed back to [out, in]). */
export function toHfTensors(cfg: ModelConfig, params: Record<string, { shape: number[]; data: Float32Array }>) {
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, { shape, data }] of Object.entries(params)) {
    if (isProjection(name)) {
      const [r, c] = shape as [number, number];
      const t = new Float32Array(r * c);
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = data[i * c + j]!;
      out[name] = { shape: [c, r], data: t };
    } else out[name] = { shape, data };
  }
  return out;
}

/** HF layout → internal layout. */
export function fromHfTensors(params: Record<string, { shape: number[]; data: Float32Array }>) {
  return toHfTensors({} as ModelConfig, params); // transposing is its own inverse
}

export type SimpleHook = (x: tf.Tensor3D) => tf.Tensor3D | void;
export type SimpleHooks = Map<string, SimpleHook[]>;

export interface Gemma2ForwardOptions {
  hooks?: SimpleHooks;
  /** Stop after this layer's resid_post (no logits). */
  stopAtLayer?: number;
  /** Points to capture (after hooks). */
  cache?: string[];
}

const ropeCache = new Map<string, { cos: tf.Tensor2D; sin: tf.Tensor2D }>();
function rope(T: number, hd: number, theta: number) {
  const key = `${T}/${hd}/${theta}/${tf.getBackend()}`;
  let r = ropeCache.get(key);
  if (!r) {
    const half = hd / 2;
    const cos = new Float32Array(T * hd);
    const sin = new Float32Array(T * hd);
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < half; i++) {
        const invFreq = 1 / Math.pow(theta, (2 * i) / hd);
        const a = t * invFreq;
        cos[t * hd + i] = cos[t * hd + i + half] = Math.cos(a);
        sin[t * hd + i] = sin[t * hd + i + half] = Math.sin(a);
      }
    }
    r = { cos: tf.keep(tf.tensor2d(cos, [T, hd])), sin: tf.keep(tf.tensor2d(sin, [T, hd])) };
    ropeCache.set(key, r);
  }
  return r;
}

const maskCache = new Map<string, tf.Tensor2D>();
function causalMask(T: number, window: number | null): tf.Tensor2D {
  const key = `${T}/${window}/${tf.getBackend()}`;
  let m = maskCache.get(key);
  if (!m) {
    const d = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) {
      const ok = j <= i && (window == null || i - j < window);
      d[i * T + j] = ok ? 0 : -1e9;
    }
    m = tf.keep(tf.tensor2d(d, [T, T]));
    maskCache.set(key, m);
  }
  return m;
}

/**
 * x [N, in] · W [in, out] with a gradient that materialises every transpose, so each matmul (forward and
 * both gradients) is a plain 2-D one (tfjs-wasm only uses XNNPACK for untransposed 2-D matmuls).
 */
type CG = Parameters<typeof tf.customGrad>[0];
export const linear = tf.customGrad(((x: tf.Tensor, W: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, W]);
  return {
    value: tf.matMul(x as tf.Tensor2D, W as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, Ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(Ws)), tf.matMul(tf.transpose(xs), dy as tf.Tensor2D)];
    },
  };
}) as unknown as CG) as (x: tf.Tensor2D, W: tf.Tensor2D) => tf.Tensor2D;

function rmsNorm(x: tf.Tensor, w: tf.Tensor, eps: number): tf.Tensor {
  const v = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(v, eps))), tf.add(w, 1));
}

function geluTanh(x: tf.Tensor): tf.Tensor {
  const c = Math.sqrt(2 / Math.PI);
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), c);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

function rotateHalf(x: tf.Tensor4D, hd: number): tf.Tensor4D {
  const half = hd / 2;
  const [a, b] = tf.split(x, [half, half], 3);
  return tf.concat([tf.neg(b!), a!], 3) as tf.Tensor4D;
}

/**
 * Forward. ids: [B, T] int32 (right-padded or unpadded; positions 0..T−1). Returns logits [B, T, V]
 * (soft-capped) unless stopAtLayer is set, plus captured activations.
 */
export function gemma2Forward(
  cfg: ModelConfig,
  P: Params,
  ids: tf.Tensor2D,
  opts: Gemma2ForwardOptions = {},
): { logits: tf.Tensor3D | null; cache: Map<string, tf.Tensor3D> } {
  const [B, T] = ids.shape;
  const d = cfg.dModel;
  const H = cfg.nHeads;
  const KV = cfg.nKvHeads;
  const hd = cfg.headDim;
  const N = B * T;
  const cache = new Map<string, tf.Tensor3D>();
  const want = new Set(opts.cache ?? []);
  const hook = (point: string, x: tf.Tensor3D): tf.Tensor3D => {
    const hs = opts.hooks?.get(point);
    if (hs) for (const h of hs) x = h(x) ?? x;
    if (want.has(point)) cache.set(point, tf.keep(x));
    return x;
  };
  const E = P['model.embed_tokens.weight']!;
  const oh = tf.cast(tf.oneHot(tf.reshape(ids, [N]), cfg.vocabSize), 'float32');
  let h = tf.reshape(tf.mul(linear(oh as tf.Tensor2D, E as tf.Tensor2D), Math.sqrt(d)), [B, T, d]) as tf.Tensor3D;
  h = hook('hook_embed', h);
  const { cos, sin } = rope(T, hd, cfg.ropeTheta);
  const scale = 1 / Math.sqrt(cfg.queryPreAttnScalar ?? hd);
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `model.layers.${l}`;
    const w = (n: string) => P[`${p}.${n}`]!;
    h = hook(`blocks.${l}.hook_resid_pre`, h);
    const x = tf.reshape(rmsNorm(h, w('input_layernorm.weight'), cfg.rmsNormEps), [N, d]) as tf.Tensor2D;
    const heads = (t: tf.Tensor, n: number) => tf.transpose(tf.reshape(t, [B, T, n, hd]), [0, 2, 1, 3]) as tf.Tensor4D;
    let q = heads(linear(x, w('self_attn.q_proj.weight') as tf.Tensor2D), H);
    let k = heads(linear(x, w('self_attn.k_proj.weight') as tf.Tensor2D), KV);
    let v = heads(linear(x, w('self_attn.v_proj.weight') as tf.Tensor2D), KV);
    q = tf.add(tf.mul(q, cos), tf.mul(rotateHalf(q, hd), sin));
    k = tf.add(tf.mul(k, cos), tf.mul(rotateHalf(k, hd), sin));
    if (KV !== H) {
      const rep = H / KV;
      const r = (t: tf.Tensor4D) => tf.reshape(tf.tile(tf.reshape(t, [B * KV, 1, T, hd]), [1, rep, 1, 1]), [B, H, T, hd]) as tf.Tensor4D;
      k = r(k);
      v = r(v);
    }
    let s = tf.mul(tf.matMul(q, k, false, true), scale);
    if (cfg.attnLogitSoftcapping) s = tf.mul(tf.tanh(tf.div(s, cfg.attnLogitSoftcapping)), cfg.attnLogitSoftcapping);
    const window = cfg.slidingWindow != null && l % 2 === 0 ? cfg.slidingWindow : null;
    s = tf.add(s, causalMask(T, window));
    const pr = tf.softmax(s, -1);
    const o = tf.reshape(tf.transpose(tf.matMul(pr, v), [0, 2, 1, 3]), [N, H * hd]);
    let attn = tf.reshape(linear(o as tf.Tensor2D, w('self_attn.o_proj.weight') as tf.Tensor2D), [B, T, d]);
    attn = rmsNorm(attn, w('post_attention_layernorm.weight'), cfg.rmsNormEps);
    const attnOut = hook(`blocks.${l}.hook_attn_out`, attn as tf.Tensor3D);
    h = tf.add(h, attnOut) as tf.Tensor3D;
    const x2 = tf.reshape(rmsNorm(h, w('pre_feedforward_layernorm.weight'), cfg.rmsNormEps), [N, d]);
    const g = geluTanh(linear(x2 as tf.Tensor2D, w('mlp.gate_proj.weight') as tf.Tensor2D));
    const u = linear(x2 as tf.Tensor2D, w('mlp.up_proj.weight') as tf.Tensor2D);
    let m = tf.reshape(linear(tf.mul(g, u) as tf.Tensor2D, w('mlp.down_proj.weight') as tf.Tensor2D), [B, T, d]);
    m = rmsNorm(m, w('post_feedforward_layernorm.weight'), cfg.rmsNormEps);
    const mlpOut = hook(`blocks.${l}.hook_mlp_out`, m as tf.Tensor3D);
    h = tf.add(h, mlpOut) as tf.Tensor3D;
    h = hook(`blocks.${l}.hook_resid_post`, h);
    if (opts.stopAtLayer === l) return { logits: null, cache };
  }
  let hn = rmsNorm(h, P['model.norm.weight']!, cfg.rmsNormEps) as tf.Tensor3D;
  hn = hook('ln_final.hook_normalized', hn);
  let logits = linear(tf.reshape(hn, [N, d]) as tf.Tensor2D, tf.transpose(E) as tf.Tensor2D);
  if (cfg.finalLogitSoftcapping) logits = tf.mul(tf.tanh(tf.div(logits, cfg.finalLogitSoftcapping)), cfg.finalLogitSoftcapping);
  return { logits: tf.reshape(logits, [B, T, cfg.vocabSize]) as tf.Tensor3D, cache };
}

/**
 * Mean next-token cross-entropy over positions with weight > 0: logits [B,T,V] predict targets [B,T]
 * (already shifted), weights [B,T].
 */
export function weightedCrossEntropy(logits: tf.Tensor3D, targets: tf.Tensor2D, weights: tf.Tensor2D): tf.Scalar {
  const [B, T, V] = logits.shape;
  const lp = tf.logSoftmax(tf.reshape(logits, [B * T, V]));
  const oh = tf.cast(tf.oneHot(tf.reshape(targets, [B * T]), V), 'float32');
  const nll = tf.neg(tf.sum(tf.mul(lp, oh), -1));
  const w = tf.reshape(weights, [B * T]);
  return tf.div(tf.sum(tf.mul(nll, w)), tf.maximum(tf.sum(w), 1e-9)) as tf.Scalar;
}
