/**
 * A tiny causal LM implementing the CausalLM contract (hooks at resid_post, left padding, gradients,
 * generation with hooks on every step) and random JumpReLU SAEs implementing the Sae contract, so the
 * refusal steps can be unit-tested without the real Gemma-2 port.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  hookNames,
  type CausalLM,
  type ForwardOptions,
  type ForwardResult,
  type GenerateOptions,
  type GenerateResult,
  type HookContext,
  type ModelConfig,
  type TokenBatch,
} from '../../workers/model/types.js';
import type { Sae, SaeMeta } from '../../workers/sae/types.js';
import { rng } from '../../workers/refusal/batch.js';
import type { SaeProvider } from '../../workers/refusal/types.js';

function randn(r: () => number, shape: number[], scale: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(r(), 1e-12);
    a[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r()) * scale;
  }
  return tf.tensor(a, shape);
}

export function toyModel(opts: { seed?: number; vocab?: number; d?: number; layers?: number } = {}): CausalLM {
  const r = rng(opts.seed ?? 1);
  const V = opts.vocab ?? 32;
  const d = opts.d ?? 16;
  const L = opts.layers ?? 3;
  const E = randn(r, [V, d], 1);
  const U = randn(r, [d, V], 1 / Math.sqrt(d));
  const blocks = Array.from({ length: L }, () => ({
    Wq: randn(r, [d, d], 1 / Math.sqrt(d)),
    Wk: randn(r, [d, d], 1 / Math.sqrt(d)),
    Wv: randn(r, [d, d], 0.5 / Math.sqrt(d)),
    W1: randn(r, [d, 2 * d], 1 / Math.sqrt(d)),
    W2: randn(r, [2 * d, d], 0.5 / Math.sqrt(2 * d)),
  }));
  const config: ModelConfig = {
    architecture: 'gemma2', hfArchitecture: 'Toy', vocabSize: V, dModel: d, nLayers: L, nHeads: 1, nKvHeads: 1,
    headDim: d, dMlp: 2 * d, rmsNormEps: 1e-6, ropeTheta: 10000, ropeScaling: null, slidingWindow: null,
    queryPreAttnScalar: null, attnLogitSoftcapping: null, finalLogitSoftcapping: null, tieWordEmbeddings: false,
    hiddenAct: 'tanh', maxPositionEmbeddings: 512, bosTokenId: 2, eosTokenIds: [1], padTokenId: 0,
  };
  const lin = (x: tf.Tensor, W: tf.Tensor) => {
    const [B, T, k] = x.shape;
    return tf.reshape(tf.matMul(tf.reshape(x, [B * T, k]), W as tf.Tensor2D), [B, T, W.shape[1]!]);
  };

  function run(batch: TokenBatch, opts: ForwardOptions, promptLength: number, step: number): ForwardResult {
    const ids = batch.inputIds;
    const B = ids.length;
    const T = ids[0].length;
    const mask = batch.attentionMask ?? ids.map((row) => row.map(() => 1));
    const cache = new Map<string, tf.Tensor3D>();
    const want = new Set(opts.cache ?? []);
    const hooks = opts.hooks ?? [];
    const am = tf.tensor2d(mask, [B, T]);
    const ctxFor = (point: string, layer: number | null): HookContext => ({
      point, layer, offset: 0, promptLength, step, attentionMask: am,
    });
    const applyHooks = (point: string, layer: number | null, x: tf.Tensor3D): tf.Tensor3D => {
      for (const h of hooks) if (h.point === point) {
        const y = h.fn(x, ctxFor(point, layer));
        if (y) x = y;
      }
      if (want.has(point)) cache.set(point, tf.keep(x.clone()));
      return x;
    };
    // [B,T,T] additive mask: causal and key padding
    const bias = tf.tensor3d(
      mask.map((row) => Array.from({ length: T }, (_, i) => row.map((m, j) => (j <= i && m ? 0 : -1e9)))),
      [B, T, T],
    );
    let x = tf.reshape(tf.gather(E, tf.tensor1d(ids.flat(), 'int32')), [B, T, d]) as tf.Tensor3D;
    x = applyHooks(hookNames.embed, null, x);
    const last = opts.stopAtLayer ?? L - 1;
    for (let l = 0; l <= last; l++) {
      const p = blocks[l];
      x = applyHooks(hookNames.residPre(l), l, x);
      const q = lin(x, p.Wq), k = lin(x, p.Wk), v = lin(x, p.Wv);
      const att = tf.softmax(tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(d)), bias));
      const a = tf.matMul(att, v) as tf.Tensor3D;
      x = tf.add(x, a) as tf.Tensor3D;
      const m = lin(tf.tanh(lin(x, p.W1)), p.W2) as tf.Tensor3D;
      x = tf.add(x, m) as tf.Tensor3D;
      x = applyHooks(hookNames.residPost(l), l, x);
    }
    let logits: tf.Tensor3D | null = null;
    if (opts.logits !== false && opts.stopAtLayer === undefined) {
      const n = tf.div(x, tf.sqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-6)));
      logits = tf.keep(lin(n, U) as tf.Tensor3D);
    }
    return { logits, cache };
  }

  const model: CausalLM = {
    config,
    forward(batch, opts = {}) {
      let out: ForwardResult | null = null;
      // no tidy here: callers may take gradients through forward
      out = run(batch, opts, batch.inputIds[0].length, -1);
      return out;
    },
    async generate(batch: TokenBatch, opts: GenerateOptions): Promise<GenerateResult> {
      const P = batch.inputIds[0].length;
      const B = batch.inputIds.length;
      let ids = batch.inputIds.map((r) => [...r]);
      let mask = (batch.attentionMask ?? ids.map((r) => r.map(() => 1))).map((r) => [...r]);
      const stops = new Set(opts.stopTokens ?? config.eosTokenIds);
      const newTokens: number[][] = Array.from({ length: B }, () => []);
      const stopped = new Array(B).fill(false);
      for (let s = 0; s < opts.maxNewTokens; s++) {
        if (opts.signal?.aborted) throw new Error('cancelled');
        const next = tf.tidy(() => {
          const o = run({ inputIds: ids, attentionMask: mask }, { hooks: opts.hooks }, P, s === 0 ? -1 : s - 1);
          const T = ids[0].length;
          const am = tf.argMax(tf.squeeze(tf.slice(o.logits!, [0, T - 1, 0], [B, 1, V]), [1]), -1);
          o.logits!.dispose();
          return am;
        });
        const nx = Array.from(next.dataSync());
        next.dispose();
        for (let b = 0; b < B; b++) {
          if (!stopped[b]) {
            newTokens[b].push(nx[b]);
            if (stops.has(nx[b])) stopped[b] = true;
          }
        }
        ids = ids.map((r, b) => [...r, stopped[b] && newTokens[b].length <= s ? 0 : nx[b]]);
        mask = mask.map((r) => [...r, 1]);
        opts.onStep?.(s);
        if (stopped.every(Boolean)) break;
      }
      return { newTokens, stopped };
    },
    weightBytes: () => 4 * (2 * V * d + L * (3 * d * d + 4 * d * d)),
    dispose() {
      E.dispose();
      U.dispose();
      for (const b of blocks) Object.values(b).forEach((t) => t.dispose());
    },
  };
  return model;
}

/** A random JumpReLU SAE (Gemma Scope formulas) at resid_post of `layer`. */
export function toySae(layer: number, d: number, dSae: number, seed: number): Sae {
  const r = rng(seed);
  const W_enc = randn(r, [d, dSae], 1 / Math.sqrt(d)) as tf.Tensor2D;
  const W_dec = randn(r, [dSae, d], 1 / Math.sqrt(d)) as tf.Tensor2D;
  const b_enc = randn(r, [dSae], 0.1) as tf.Tensor1D;
  const b_dec = randn(r, [d], 0.1) as tf.Tensor1D;
  const threshold = tf.tidy(() => tf.abs(randn(r, [dSae], 0.3))) as tf.Tensor1D;
  const meta: SaeMeta = {
    id: `toy:${layer}`, format: 'gemmascope', source: 'memory', architecture: 'jumprelu', layer,
    hookPoint: hookNames.residPost(layer), dIn: d, dSae, k: null, applyBDecToInput: false, neuronpediaId: null,
    notes: [],
  };
  const hiddenPre = (x: tf.Tensor) =>
    tf.tidy(() => {
      const s = x.shape;
      return tf.reshape(tf.add(tf.matMul(tf.reshape(x, [-1, d]), W_enc), b_enc), [...s.slice(0, -1), dSae]);
    });
  return {
    meta, W_enc, W_dec, b_enc, b_dec, threshold,
    hiddenPre,
    encode: (x) => tf.tidy(() => {
      const pre = hiddenPre(x);
      return tf.where(tf.greater(pre, threshold), tf.relu(pre), tf.zerosLike(pre));
    }),
    decode: (f) => tf.tidy(() => {
      const s = f.shape;
      return tf.reshape(tf.add(tf.matMul(tf.reshape(f, [-1, dSae]), W_dec), b_dec), [...s.slice(0, -1), d]);
    }),
    weightBytes: () => 4 * (2 * d * dSae + 2 * dSae + d),
    dispose() {
      [W_enc, W_dec, b_enc, b_dec, threshold].forEach((t) => t.dispose());
    },
  };
}

export function memoryProvider(saes: Sae[]): SaeProvider & { gets: number } {
  const byLayer = new Map(saes.map((s) => [s.meta.layer, s]));
  const p = {
    layers: saes.map((s) => s.meta.layer).sort((a, b) => a - b),
    gets: 0,
    async get(l: number) {
      p.gets++;
      const s = byLayer.get(l);
      if (!s) throw new Error(`no SAE for layer ${l}`);
      return s;
    },
    release() {},
  };
  return p;
}
