/**
 * Gemma-2 and Llama-3.x decoder in tfjs ops, matching HF transformers (eager attention, float32).
 * One forward core serves plain forwards, gradient passes and KV-cache generation, so a cached
 * decoding step computes exactly what a full recompute would.
 */
import * as tf from '@tensorflow/tfjs-core';
// Gradient functions are not registered by tfjs-core alone.
import '../engine/register-gradients.js';
import { prepareBatch, type PreparedBatch } from './batch.js';
import { chunkedGather, chunkedLinear } from '../engine/memory-guard.js';
import { mulberry32 } from '../../common/suites/ops.js';
import { inverseFrequencies, ropeTables } from './rope.js';
import type {
  CausalLM, DecodingSession, ForwardOptions, ForwardResult, GenerateOptions, GenerateResult, HookContext, HookPoint, Hooks, ModelConfig, TokenBatch,
} from './types.js';
import { hookNames } from './types.js';

/** HF masks with torch.finfo(float32).min, never -inf (fully masked pad rows must stay finite). */
const MASK_MIN = -3.4028234663852886e38;

/**
 * A projection: weights pre-transposed to [in, out] for inference — split into column parts when one
 * tensor would pass the backend's per-tensor limit (WebGPU) — or kept [out, in] (trainable variables).
 */
interface Linear {
  parts: tf.Tensor2D[];
  transposed: boolean;
}

/** A weight as one tensor, or as row chunks of its [out, in] matrix (built by the loader under a size limit). */
export type WeightValue = tf.Tensor | tf.Tensor2D[];

interface LayerWeights {
  q: Linear;
  k: Linear;
  v: Linear;
  o: Linear;
  gate: Linear;
  up: Linear;
  down: Linear;
  inNorm: tf.Tensor1D;
  postAttnNorm: tf.Tensor1D;
  preFfNorm: tf.Tensor1D | null;
  postFfNorm: tf.Tensor1D | null;
}

interface KV {
  k: tf.Tensor4D;
  v: tf.Tensor4D;
}

interface CoreArgs {
  ids: number[][];
  positions: number[][];
  /** [B, T_keys] mask over every key slot (cache + this call). */
  keyMask: number[][];
  offset: number;
  promptLength: number;
  step: number;
  hooks: Hooks;
  cache: Set<HookPoint>;
  logits: 'all' | 'last' | 'none';
  stopAtLayer: number;
  /** Cached keys/values from earlier slots (null for a full forward). */
  past: KV[] | null;
  /** Collect this call's keys/values (concatenated with past). */
  collectKv: boolean;
}

interface CoreOut {
  logits: tf.Tensor3D | null;
  cache: Map<HookPoint, tf.Tensor3D>;
  kv: KV[] | null;
}

export interface CreateModelOptions {
  /** Default stop tokens for generate (EOS ids and the chat end-of-turn token). */
  stopTokens?: number[];
}

export class Transformer implements CausalLM {
  private readonly layers: LayerWeights[] = [];
  /** Embedding as [V, d] (trainable) or [d, V] (inference; gathered along axis 1, shared with the tied head). */
  private readonly embed: tf.Tensor2D | null;
  private readonly embedTransposed: boolean;
  /** Row chunks of the [V, d] embedding when it is too large for one tensor. */
  private readonly embedChunks: tf.Tensor2D[] | null = null;
  private readonly finalNorm: tf.Tensor1D;
  private readonly lmHead: Linear | null;
  private readonly invFreq: Float32Array;
  private readonly owned: tf.Tensor[] = [];
  stopTokens: number[];

  constructor(readonly config: ModelConfig, weights: Map<string, WeightValue>, opts: CreateModelOptions = {}) {
    const take = (name: string): tf.Tensor => {
      const t = weights.get(name);
      if (!t) throw new Error(`weight "${name}" missing`);
      if (Array.isArray(t)) throw new Error(`weight "${name}" cannot be chunked`);
      return t;
    };
    const linear = (name: string): Linear => {
      const v = weights.get(name);
      if (!v) throw new Error(`weight "${name}" missing`);
      if (v instanceof tf.Variable) return { parts: [v as tf.Tensor2D], transposed: false };
      const parts = (Array.isArray(v) ? v : [v as tf.Tensor2D]).map((w) => {
        const wt = tf.transpose(w) as tf.Tensor2D;
        w.dispose();
        this.owned.push(wt);
        return wt;
      });
      return { parts, transposed: true };
    };
    const keep = <T extends tf.Tensor>(t: T): T => {
      if (!(t instanceof tf.Variable)) this.owned.push(t);
      return t;
    };
    const gemma = config.architecture === 'gemma2';
    const embedValue = weights.get('model.embed_tokens.weight');
    if (Array.isArray(embedValue)) {
      this.embedChunks = embedValue;
      this.owned.push(...embedValue);
      this.embed = null;
      this.embedTransposed = false;
    } else if (embedValue instanceof tf.Variable) {
      this.embed = embedValue as tf.Tensor2D;
      this.embedTransposed = false;
    } else {
      const embed = take('model.embed_tokens.weight') as tf.Tensor2D;
      this.embed = keep(tf.transpose(embed) as tf.Tensor2D);
      embed.dispose();
      this.embedTransposed = true;
    }
    this.finalNorm = keep(take('model.norm.weight') as tf.Tensor1D);
    this.lmHead = config.tieWordEmbeddings ? null : linear('lm_head.weight');
    for (let l = 0; l < config.nLayers; l++) {
      const p = `model.layers.${l}`;
      this.layers.push({
        q: linear(`${p}.self_attn.q_proj.weight`),
        k: linear(`${p}.self_attn.k_proj.weight`),
        v: linear(`${p}.self_attn.v_proj.weight`),
        o: linear(`${p}.self_attn.o_proj.weight`),
        gate: linear(`${p}.mlp.gate_proj.weight`),
        up: linear(`${p}.mlp.up_proj.weight`),
        down: linear(`${p}.mlp.down_proj.weight`),
        inNorm: keep(take(`${p}.input_layernorm.weight`) as tf.Tensor1D),
        postAttnNorm: keep(take(`${p}.post_attention_layernorm.weight`) as tf.Tensor1D),
        preFfNorm: gemma ? keep(take(`${p}.pre_feedforward_layernorm.weight`) as tf.Tensor1D) : null,
        postFfNorm: gemma ? keep(take(`${p}.post_feedforward_layernorm.weight`) as tf.Tensor1D) : null,
      });
    }
    this.invFreq = inverseFrequencies(config);
    this.stopTokens = opts.stopTokens ?? config.eosTokenIds;
  }

  weightBytes(): number {
    let n = 0;
    const add = (t: tf.Tensor | null) => {
      if (t) n += t.size * 4;
    };
    add(this.embed);
    for (const c of this.embedChunks ?? []) add(c);
    add(this.finalNorm);
    for (const p of this.lmHead?.parts ?? []) add(p);
    for (const L of this.layers) {
      for (const lin of [L.q, L.k, L.v, L.o, L.gate, L.up, L.down]) for (const p of lin.parts) add(p);
      for (const t of [L.inNorm, L.postAttnNorm, L.preFfNorm, L.postFfNorm]) add(t);
    }
    return n;
  }

  dispose(): void {
    for (const t of this.owned) t.dispose();
    this.owned.length = 0;
  }

  // ------------------------------------------------------------------ pieces

  private applyLinear(x2d: tf.Tensor2D, lin: Linear): tf.Tensor2D {
    if (!lin.transposed) return tf.matMul(x2d, lin.parts[0]!, false, true);
    if (lin.parts.length === 1) return frozenLinear(x2d, lin.parts[0]!);
    return tf.concat(lin.parts.map((p) => frozenLinear(x2d, p)), 1) as tf.Tensor2D;
  }

  private rmsNorm(x: tf.Tensor3D, w: tf.Tensor1D): tf.Tensor3D {
    const eps = this.config.rmsNormEps;
    const variance = tf.mean(tf.square(x), -1, true);
    const normed = tf.mul(x, tf.rsqrt(tf.add(variance, eps)));
    // Gemma stores w and scales by (1 + w); Llama scales by w.
    const scale = this.config.architecture === 'gemma2' ? tf.add(w, 1) : w;
    return tf.mul(normed, scale) as tf.Tensor3D;
  }

  private embedTokens(ids: number[][]): tf.Tensor3D {
    const B = ids.length;
    const T = ids[0]!.length;
    const idx = tf.tensor1d(ids.flat(), 'int32');
    const rows = this.embedChunks
      ? chunkedGather(this.embedChunks, idx)
      : this.embedTransposed
        ? tf.transpose(tf.gather(this.embed!, idx, 1))
        : tf.gather(this.embed!, idx, 0);
    let x = tf.reshape(rows, [B, T, this.config.dModel]) as tf.Tensor3D;
    if (this.config.architecture === 'gemma2') {
      x = tf.mul(x, tf.scalar(Math.fround(Math.sqrt(this.config.dModel)))) as tf.Tensor3D;
    }
    return x;
  }

  private unembed(h: tf.Tensor3D): tf.Tensor3D {
    const [B, T, d] = h.shape;
    const h2 = tf.reshape(h, [B * T, d]) as tf.Tensor2D;
    let logits: tf.Tensor2D;
    if (this.lmHead) logits = this.applyLinear(h2, this.lmHead);
    else if (this.embedChunks) logits = chunkedLinear(h2, this.embedChunks) as tf.Tensor2D;
    else logits = this.embedTransposed ? frozenLinear(h2, this.embed!) : tf.matMul(h2, this.embed!, false, true);
    let out = tf.reshape(logits, [B, T, this.config.vocabSize]) as tf.Tensor3D;
    const cap = this.config.finalLogitSoftcapping;
    if (cap) out = tf.mul(tf.tanh(tf.div(out, cap)), cap) as tf.Tensor3D;
    return out;
  }

  private mlp(x: tf.Tensor3D, L: LayerWeights): tf.Tensor3D {
    const [B, T, d] = x.shape;
    const x2 = tf.reshape(x, [B * T, d]) as tf.Tensor2D;
    const gate = this.applyLinear(x2, L.gate);
    const act = this.config.hiddenAct.startsWith('gelu') ? geluTanh(gate) : tf.mul(gate, tf.sigmoid(gate));
    const h = tf.mul(act, this.applyLinear(x2, L.up)) as tf.Tensor2D;
    return tf.reshape(this.applyLinear(h, L.down), [B, T, d]) as tf.Tensor3D;
  }

  /** Additive mask [B, 1, Tq, Tk]: causal, padding and (for local layers) the sliding window. */
  private buildMask(keyMask: number[][], offset: number, Tq: number, window: number | null): tf.Tensor4D {
    const B = keyMask.length;
    const Tk = keyMask[0]!.length;
    const data = new Float32Array(B * Tq * Tk);
    for (let b = 0; b < B; b++) {
      const km = keyMask[b]!;
      for (let i = 0; i < Tq; i++) {
        const q = offset + i;
        const base = (b * Tq + i) * Tk;
        for (let k = 0; k < Tk; k++) {
          const ok = k <= q && km[k] === 1 && (window === null || q - k < window);
          data[base + k] = ok ? 0 : MASK_MIN;
        }
      }
    }
    return tf.tensor4d(data, [B, 1, Tq, Tk]);
  }

  private attention(
    x: tf.Tensor3D, L: LayerWeights, cos: tf.Tensor4D, sin: tf.Tensor4D, mask: tf.Tensor4D, past: KV | null,
  ): { out: tf.Tensor3D; kv: KV } {
    const c = this.config;
    const [B, T, d] = x.shape;
    const H = c.nHeads;
    const KVh = c.nKvHeads;
    const hd = c.headDim;
    const rep = H / KVh;
    const x2 = tf.reshape(x, [B * T, d]) as tf.Tensor2D;
    const heads = (t: tf.Tensor2D, n: number) => tf.transpose(tf.reshape(t, [B, T, n, hd]), [0, 2, 1, 3]) as tf.Tensor4D;
    let q = heads(this.applyLinear(x2, L.q), H);
    let k = heads(this.applyLinear(x2, L.k), KVh);
    let v = heads(this.applyLinear(x2, L.v), KVh);
    q = applyRope(q, cos, sin, hd);
    k = applyRope(k, cos, sin, hd);
    if (past) {
      k = tf.concat([past.k, k], 2);
      v = tf.concat([past.v, v], 2);
    }
    const Tk = k.shape[2];
    // GQA without repeating K/V: group the `rep` query heads that share a KV head along the row axis.
    const qg = tf.reshape(q, [B, KVh, rep * T, hd]);
    const scaling = c.architecture === 'gemma2' ? Math.pow(c.queryPreAttnScalar ?? hd, -0.5) : Math.pow(hd, -0.5);
    let scores = tf.mul(tf.matMul(qg, k, false, true), scaling) as tf.Tensor4D;
    const cap = c.attnLogitSoftcapping;
    if (cap) scores = tf.mul(tf.tanh(tf.div(scores, cap)), cap) as tf.Tensor4D;
    // Gemma-2 soft-caps before masking.
    const masked = tf.add(tf.reshape(scores, [B, H, T, Tk]), mask);
    const probs = tf.reshape(tf.softmax(masked, -1), [B, KVh, rep * T, Tk]);
    const ctx = tf.reshape(tf.matMul(probs, v), [B, H, T, hd]);
    const merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [B * T, H * hd]) as tf.Tensor2D;
    const out = tf.reshape(this.applyLinear(merged, L.o), [B, T, d]) as tf.Tensor3D;
    return { out, kv: { k, v } };
  }

  // ------------------------------------------------------------------ core

  private core(a: CoreArgs): CoreOut {
    const c = this.config;
    const B = a.ids.length;
    const T = a.ids[0]!.length;
    const cache = new Map<HookPoint, tf.Tensor3D>();
    const byPoint = new Map<HookPoint, Hooks[number]['fn'][]>();
    for (const h of a.hooks) {
      const list = byPoint.get(h.point) ?? [];
      list.push(h.fn);
      byPoint.set(h.point, list);
    }
    const callMask = tf.tensor2d(a.keyMask.map((r) => r.slice(r.length - T)), [B, T], 'float32');
    const hook = (point: HookPoint, layer: number | null, x: tf.Tensor3D): tf.Tensor3D => {
      const fns = byPoint.get(point);
      if (fns) {
        const ctx: HookContext = { point, layer, offset: a.offset, promptLength: a.promptLength, step: a.step, attentionMask: callMask };
        for (const fn of fns) {
          const r = fn(x, ctx);
          if (r) {
            if (r.shape.join() !== x.shape.join()) throw new Error(`hook at ${point} returned shape [${r.shape}], expected [${x.shape}]`);
            x = r;
          }
        }
      }
      if (a.cache.has(point)) cache.set(point, x);
      return x;
    };
    const { cos: cosData, sin: sinData } = ropeTables(this.invFreq, a.positions, c.headDim);
    const cos = tf.tensor4d(cosData, [B, 1, T, c.headDim]);
    const sin = tf.tensor4d(sinData, [B, 1, T, c.headDim]);
    const globalMask = this.buildMask(a.keyMask, a.offset, T, null);
    const localMask = c.slidingWindow !== null ? this.buildMask(a.keyMask, a.offset, T, c.slidingWindow) : globalMask;
    let x = hook(hookNames.embed, null, this.embedTokens(a.ids));
    const kvOut: KV[] = [];
    const last = Math.min(a.stopAtLayer, c.nLayers - 1);
    for (let l = 0; l <= last; l++) {
      const L = this.layers[l]!;
      // Gemma-2: even layers use the sliding window, odd layers are global.
      const mask = c.architecture === 'gemma2' && l % 2 === 0 ? localMask : globalMask;
      x = hook(hookNames.residPre(l), l, x);
      const att = this.attention(this.rmsNorm(x, L.inNorm), L, cos, sin, mask, a.past ? a.past[l]! : null);
      if (a.collectKv) kvOut.push(att.kv);
      let attnOut = att.out;
      if (L.preFfNorm) attnOut = this.rmsNorm(attnOut, L.postAttnNorm);
      attnOut = hook(hookNames.attnOut(l), l, attnOut);
      const mid = tf.add(x, attnOut) as tf.Tensor3D;
      let mlpOut = L.preFfNorm ? this.rmsNorm(this.mlp(this.rmsNorm(mid, L.preFfNorm), L), L.postFfNorm!) : this.mlp(this.rmsNorm(mid, L.postAttnNorm), L);
      mlpOut = hook(hookNames.mlpOut(l), l, mlpOut);
      x = hook(hookNames.residPost(l), l, tf.add(mid, mlpOut) as tf.Tensor3D);
    }
    let logits: tf.Tensor3D | null = null;
    if (last === c.nLayers - 1 && (a.logits !== 'none' || a.cache.has(hookNames.lnFinal))) {
      const xl = a.logits === 'last' ? (tf.slice(x, [0, T - 1, 0], [B, 1, c.dModel]) as tf.Tensor3D) : x;
      const normed = hook(hookNames.lnFinal, null, this.rmsNorm(xl, this.finalNorm));
      if (a.logits !== 'none') logits = this.unembed(normed);
    }
    return { logits, cache, kv: a.collectKv ? kvOut : null };
  }

  forward(batch: TokenBatch, opts: ForwardOptions = {}): ForwardResult {
    const p = prepareBatch(batch);
    const wantLogits = opts.stopAtLayer === undefined && opts.logits !== false;
    const out = tidy(() => {
      const r = this.core({
        ids: p.inputIds,
        positions: p.positionIds,
        keyMask: p.attentionMask,
        offset: 0,
        promptLength: p.T,
        step: -1,
        hooks: opts.hooks ?? [],
        cache: new Set(opts.cache ?? []),
        logits: wantLogits ? 'all' : 'none',
        stopAtLayer: opts.stopAtLayer ?? this.config.nLayers - 1,
        past: null,
        collectKv: false,
      });
      return { logits: r.logits, names: [...r.cache.keys()], tensors: [...r.cache.values()] };
    });
    const cache = new Map<HookPoint, tf.Tensor3D>();
    out.names.forEach((n, i) => cache.set(n, out.tensors[i]!));
    return { logits: out.logits, cache };
  }

  /**
   * Stepwise KV-cache decoding: the prompt pass runs now; `push(tokens)` appends one token per row.
   * Two decoders fed the same tokens advance in lockstep (e.g. an unintervened twin of a clamped run).
   */
  startDecoding(batch: TokenBatch, hooks: Hooks = []): Decoder {
    return new Decoder(this, prepareBatch(batch), hooks);
  }

  /** @internal one cached pass; used by Decoder. */
  decodePass(args: Omit<CoreArgs, 'cache' | 'logits' | 'stopAtLayer' | 'collectKv'>): { logits: tf.Tensor3D; kv: KV[] } {
    return tidy(() => {
      const r = this.core({ ...args, cache: new Set(), logits: 'last', stopAtLayer: this.config.nLayers - 1, collectKv: true });
      return { logits: r.logits!, kv: r.kv! };
    });
  }

  async generate(batch: TokenBatch, opts: GenerateOptions): Promise<GenerateResult> {
    const stop = new Set(opts.stopTokens ?? this.stopTokens);
    const rng = opts.sampling && opts.sampling.temperature > 0 ? mulberry32(opts.sampling.seed) : null;
    const dec = this.startDecoding(batch, opts.hooks ?? []);
    const B = dec.batchSize;
    const newTokens: number[][] = Array.from({ length: B }, () => []);
    const stopped = new Array<boolean>(B).fill(false);
    try {
      for (let step = 0; step < opts.maxNewTokens; step++) {
        if (opts.signal?.aborted) throw new Error('generation cancelled');
        const rows = await dec.lastLogits();
        const next = rows.map((row) => (rng ? sample(row, opts.sampling!, rng) : argmax(row)));
        next.forEach((tok, b) => {
          if (stopped[b]) return;
          newTokens[b]!.push(tok);
          if (stop.has(tok)) stopped[b] = true;
        });
        opts.onStep?.(step);
        if (stopped.every(Boolean) || step === opts.maxNewTokens - 1) break;
        dec.push(next);
      }
    } finally {
      dec.dispose();
    }
    return { newTokens, stopped };
  }
}

/** A KV-cached decoding session (see Transformer.startDecoding). Dispose it when done. */
export class Decoder implements DecodingSession {
  private state: { logits: tf.Tensor3D; kv: KV[] } | null;
  private readonly keyMask: number[][];
  private readonly lastPos: number[];
  /** Generated tokens pushed so far. */
  step = 0;
  readonly batchSize: number;
  readonly promptLength: number;

  constructor(private readonly model: Transformer, p: PreparedBatch, private readonly hooks: Hooks) {
    this.batchSize = p.B;
    this.promptLength = p.T;
    this.keyMask = p.attentionMask.map((r) => [...r]);
    // Left padding: the last slot of every row is its last real token.
    this.lastPos = p.positionIds.map((r) => r[p.T - 1]!);
    this.state = model.decodePass({
      ids: p.inputIds, positions: p.positionIds, keyMask: this.keyMask, offset: 0, promptLength: p.T, step: -1, hooks, past: null,
    });
  }

  /** Logits of the last position, one row per sequence. */
  async lastLogits(): Promise<Float32Array[]> {
    if (!this.state) throw new Error('decoder disposed');
    const V = this.model.config.vocabSize;
    const all = (await this.state.logits.data()) as Float32Array;
    return Array.from({ length: this.batchSize }, (_, b) => all.subarray(b * V, (b + 1) * V));
  }

  /** Append one token per row and run its cached pass (hooks see step = tokens pushed before it). */
  push(tokens: number[]): void {
    if (!this.state) throw new Error('decoder disposed');
    if (tokens.length !== this.batchSize) throw new Error(`push: ${tokens.length} tokens for ${this.batchSize} rows`);
    for (const row of this.keyMask) row.push(1);
    const s = this.step;
    const prev = this.state;
    this.state = this.model.decodePass({
      ids: tokens.map((t) => [t]), positions: tokens.map((_, b) => [this.lastPos[b]! + 1 + s]), keyMask: this.keyMask,
      offset: this.promptLength + s, promptLength: this.promptLength, step: s, hooks: this.hooks, past: prev.kv,
    });
    disposeState(prev);
    this.step++;
  }

  dispose(): void {
    if (this.state) disposeState(this.state);
    this.state = null;
  }
}

/**
 * x·W for a frozen weight W [in, out]. Its gradient w.r.t. x, dy·Wᵀ, is computed as (W·dyᵀ)ᵀ: only the
 * small activation matrices are transposed, never the weight (tfjs would otherwise materialise a
 * transposed copy of every weight in every backward pass — the whole model again at peak).
 */
function frozenLinear(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  const f = tf.customGrad<tf.Tensor2D>((...inputs) => ({
    value: tf.matMul(inputs[0] as tf.Tensor2D, w),
    gradFunc: (dy) => tf.transpose(tf.matMul(w, tf.transpose(dy))),
  }));
  return f(x) as tf.Tensor2D;
}

/** tf.tidy with the returned structure's type kept (tidy walks nested objects/arrays for tensors). */
function tidy<T>(fn: () => T): T {
  return tf.tidy(fn as unknown as () => tf.TensorContainer) as unknown as T;
}

function disposeState(s: { logits: tf.Tensor; kv: KV[] }): void {
  s.logits.dispose();
  for (const kv of s.kv) {
    kv.k.dispose();
    kv.v.dispose();
  }
}

function applyRope(x: tf.Tensor4D, cos: tf.Tensor4D, sin: tf.Tensor4D, hd: number): tf.Tensor4D {
  const half = hd / 2;
  const [B, H, T] = x.shape;
  const x1 = tf.slice(x, [0, 0, 0, 0], [B, H, T, half]);
  const x2 = tf.slice(x, [0, 0, 0, half], [B, H, T, half]);
  const rotated = tf.concat([tf.neg(x2), x1], 3);
  return tf.add(tf.mul(x, cos), tf.mul(rotated, sin)) as tf.Tensor4D;
}

/** gelu with the tanh approximation (gelu_pytorch_tanh). */
function geluTanh(x: tf.Tensor2D): tf.Tensor2D {
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner))) as tf.Tensor2D;
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}


/** One token from softmax(row / temperature), top-k then top-p truncated, drawn with `rng` (exported for the playground's stepwise decoder). */
export function sample(row: Float32Array, s: { temperature: number; topK?: number; topP?: number }, rng: () => number): number {
  let idx = Array.from(row.keys()).sort((a, b) => row[b]! - row[a]!);
  if (s.topK && s.topK > 0) idx = idx.slice(0, s.topK);
  const max = row[idx[0]!]!;
  let probs = idx.map((i) => Math.exp((row[i]! - max) / s.temperature));
  let total = probs.reduce((a, x) => a + x, 0);
  probs = probs.map((p) => p / total);
  if (s.topP !== undefined && s.topP < 1) {
    let acc = 0;
    let cut = probs.length;
    for (let i = 0; i < probs.length; i++) {
      acc += probs[i]!;
      if (acc >= s.topP) {
        cut = i + 1;
        break;
      }
    }
    idx = idx.slice(0, cut);
    probs = probs.slice(0, cut);
    total = probs.reduce((a, x) => a + x, 0);
    probs = probs.map((p) => p / total);
  }
  let r = rng();
  for (let i = 0; i < idx.length; i++) {
    r -= probs[i]!;
    if (r <= 0) return idx[i]!;
  }
  return idx[idx.length - 1]!;
}
