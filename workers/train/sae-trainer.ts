/**
 * JumpReLU sparse-autoencoder trainer (Rajamanoharan et al. 2024, the Gemma Scope recipe), usable on
 * activations from any model.
 *
 *   pre = x·W_enc + b_enc,   f = pre·H(pre − θ),   x̂ = f·W_dec + b_dec
 *   loss = ‖x − x̂‖² + λ·Σ H(pre − θ)                (L0 through straight-through estimators)
 *
 * with θ = exp(log θ), rectangle-kernel pseudo-derivatives of bandwidth ε for θ, inputs normalised to
 * E‖x‖² = d during training (folded back into the weights on export), unit-norm decoder rows enforced
 * after every step, λ warmed up linearly, and dead-feature resampling (a feature silent for
 * `deadWindow` steps is re-initialised towards a badly reconstructed input, with its Adam moments reset).
 *
 * The result is in Gemma Scope params.npz layout: W_enc [d, w], b_enc [w], W_dec [w, d], b_dec [d],
 * threshold [w]; encode is exactly the formula above (no b_dec subtraction), as the Gemma Scope loader expects.
 */
import * as tf from '@tensorflow/tfjs-core';
import '../engine/register-gradients.js';
import { writeNpz } from '../engine/io/npy.js';
import { Rng } from '../demo/prng.js';

export interface SaeTrainOptions {
  width: number;
  steps: number;
  batchSize: number;
  lr: number;
  /** Sparsity coefficient λ (on the L0 term, in normalised units). */
  l0Coeff: number;
  /** Steps over which λ ramps from 0. */
  l0WarmupSteps: number;
  /** STE bandwidth ε. */
  bandwidth: number;
  /** Initial threshold θ. */
  initThreshold: number;
  /** A feature that has not fired for this many steps is resampled (0 = never). */
  deadWindow: number;
  /** No resampling after this fraction of training. */
  resampleUntil: number;
  seed: number;
  onLog?: (step: number, stats: { mse: number; l0: number; dead: number }) => void;
  logEvery?: number;
}

export const DEFAULT_SAE_OPTIONS: Omit<SaeTrainOptions, 'width'> = {
  steps: 3000,
  batchSize: 512,
  lr: 2e-3,
  l0Coeff: 0.1,
  l0WarmupSteps: 800,
  bandwidth: 0.05,
  initThreshold: 0.05,
  deadWindow: 400,
  resampleUntil: 0.7,
  seed: 0,
  logEvery: 250,
};

export interface GemmaScopeParams {
  W_enc: { shape: number[]; data: Float32Array };
  b_enc: { shape: number[]; data: Float32Array };
  W_dec: { shape: number[]; data: Float32Array };
  b_dec: { shape: number[]; data: Float32Array };
  threshold: { shape: number[]; data: Float32Array };
}

export interface SaeTrainResult {
  params: GemmaScopeParams;
  /** Input scaling used in training (folded into the exported weights). */
  inputScale: number;
  resampled: number;
  log: { step: number; mse: number; l0: number; dead: number }[];
}

type CG = Parameters<typeof tf.customGrad>[0];
const rect = (u: tf.Tensor) => tf.cast(tf.less(tf.abs(u), 0.5), 'float32');

/** JumpReLU with pseudo-derivatives: ∂/∂pre = H(pre−θ), ∂/∂θ = −(θ/ε)·K((pre−θ)/ε). */
function jumpRelu(eps: number) {
  return tf.customGrad(((pre: tf.Tensor, theta: tf.Tensor, save: tf.GradSaveFunc) => {
    const mask = tf.cast(tf.greater(pre, theta), 'float32');
    save([pre, theta, mask]);
    return {
      value: tf.mul(pre, mask),
      gradFunc: (dy: tf.Tensor, s: tf.Tensor[]) => {
        const [p, th, m] = s as [tf.Tensor, tf.Tensor, tf.Tensor];
        const dTheta = tf.sum(tf.mul(dy, tf.mul(tf.neg(tf.div(th, eps)), rect(tf.div(tf.sub(p, th), eps)))), 0);
        return [tf.mul(dy, m), dTheta];
      },
    };
  }) as unknown as CG);
}

/** Heaviside step with pseudo-derivative ∂/∂θ = −(1/ε)·K((pre−θ)/ε), ∂/∂pre = 0. */
function stepFn(eps: number) {
  return tf.customGrad(((pre: tf.Tensor, theta: tf.Tensor, save: tf.GradSaveFunc) => {
    save([pre, theta]);
    return {
      value: tf.cast(tf.greater(pre, theta), 'float32'),
      gradFunc: (dy: tf.Tensor, s: tf.Tensor[]) => {
        const [p, th] = s as [tf.Tensor, tf.Tensor];
        const dTheta = tf.sum(tf.mul(dy, tf.mul(-1 / eps, rect(tf.div(tf.sub(p, th), eps)))), 0);
        return [tf.zerosLike(p), dTheta];
      },
    };
  }) as unknown as CG);
}

/**
 * Train on activations `acts` (N × d, row-major). Deterministic in the seed on a given backend.
 */
export async function trainJumpReluSae(acts: Float32Array, d: number, o: SaeTrainOptions): Promise<SaeTrainResult> {
  const N = acts.length / d;
  if (!Number.isInteger(N) || N < 2) throw new Error(`trainJumpReluSae: ${acts.length} values is not a multiple of d=${d}`);
  const w = o.width;
  const rng = new Rng(o.seed ^ 0x5ae);
  // normalisation so that E‖x‖² = d
  let sq = 0;
  for (let i = 0; i < acts.length; i++) sq += acts[i]! * acts[i]!;
  const inputScale = Math.sqrt(d / (sq / N));
  const X = tf.tidy(() => tf.mul(tf.tensor2d(acts, [N, d]), inputScale)) as tf.Tensor2D;
  const mean = tf.tidy(() => tf.mean(X, 0)) as tf.Tensor1D;

  // init: random unit decoder rows, encoder = decoderᵀ, b_dec = data mean, b_enc = 0, θ = initThreshold
  const dec = new Float32Array(w * d);
  for (let i = 0; i < w; i++) {
    let n = 0;
    for (let j = 0; j < d; j++) n += (dec[i * d + j] = rng.normal()) ** 2;
    n = Math.sqrt(n);
    for (let j = 0; j < d; j++) dec[i * d + j]! /= n;
  }
  const V = {
    W_dec: tf.variable(tf.tensor2d(dec, [w, d])),
    W_enc: tf.variable(tf.transpose(tf.tensor2d(dec, [w, d]))),
    b_enc: tf.variable(tf.zeros([w])),
    b_dec: tf.variable(mean.clone()),
    log_threshold: tf.variable(tf.fill([w], Math.log(o.initThreshold))),
  };
  const names = Object.keys(V) as (keyof typeof V)[];
  const m1 = Object.fromEntries(names.map((n) => [n, tf.variable(tf.zerosLike(V[n]))])) as Record<keyof typeof V, tf.Variable>;
  const m2 = Object.fromEntries(names.map((n) => [n, tf.variable(tf.zerosLike(V[n]))])) as Record<keyof typeof V, tf.Variable>;
  const jr = jumpRelu(o.bandwidth);
  const st = stepFn(o.bandwidth);
  const lastFired = new Int32Array(w);
  const log: SaeTrainResult['log'] = [];
  let resampled = 0;
  const b1 = 0.9;
  const b2 = 0.999;

  for (let step = 0; step < o.steps; step++) {
    const idx = new Int32Array(o.batchSize);
    for (let i = 0; i < o.batchSize; i++) idx[i] = rng.int(N);
    const lam = o.l0Coeff * Math.min(1, (step + 1) / Math.max(1, o.l0WarmupSteps));
    const lr = o.lr * Math.min(1, (step + 1) / 100) * (step > 0.8 * o.steps ? (o.steps - step) / (0.2 * o.steps) : 1);
    const xb = tf.gather(X, tf.tensor1d(idx, 'int32')) as tf.Tensor2D;
    const { value, grads, fired, mseT, l0T } = tf.tidy(() => {
      let firedT: tf.Tensor | null = null;
      let mse: tf.Tensor | null = null;
      let l0: tf.Tensor | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const pre = tf.add(tf.matMul(xb, V.W_enc), V.b_enc);
        const theta = tf.exp(V.log_threshold);
        const f = jr(pre, theta) as tf.Tensor2D;
        const xh = tf.add(tf.matMul(f, V.W_dec), V.b_dec);
        const rec = tf.mean(tf.sum(tf.square(tf.sub(xb, xh)), -1));
        const h = st(pre, theta);
        const l0b = tf.mean(tf.sum(h, -1));
        firedT = tf.keep(tf.max(h, 0));
        mse = tf.keep(rec);
        l0 = tf.keep(l0b);
        return tf.add(rec, tf.mul(l0b, lam)) as tf.Scalar;
      }, names.map((n) => V[n]));
      return { value, grads, fired: firedT!, mseT: mse!, l0T: l0! };
    });
    // Adam
    tf.tidy(() => {
      const t = step + 1;
      for (const n of names) {
        const g = grads[V[n].name]!;
        m1[n].assign(tf.add(tf.mul(m1[n], b1), tf.mul(g, 1 - b1)));
        m2[n].assign(tf.add(tf.mul(m2[n], b2), tf.mul(tf.square(g), 1 - b2)));
        const mh = tf.div(m1[n], 1 - b1 ** t);
        const vh = tf.div(m2[n], 1 - b2 ** t);
        V[n].assign(tf.sub(V[n], tf.mul(tf.div(mh, tf.add(tf.sqrt(vh), 1e-8)), lr)));
      }
      // unit-norm decoder rows
      V.W_dec.assign(tf.div(V.W_dec, tf.maximum(tf.norm(V.W_dec, 'euclidean', 1, true), 1e-8)));
    });
    for (const g of Object.values(grads)) g.dispose();
    value.dispose();
    const f = await fired.data();
    fired.dispose();
    for (let i = 0; i < w; i++) lastFired[i] = f[i]! > 0 ? 0 : lastFired[i]! + 1;

    if (o.deadWindow > 0 && step > 0 && step % o.deadWindow === 0 && step < o.resampleUntil * o.steps) {
      const dead: number[] = [];
      for (let i = 0; i < w; i++) if (lastFired[i]! >= o.deadWindow) dead.push(i);
      if (dead.length) {
        resampled += dead.length;
        await resample(dead, X, V, m1, m2, rng, o);
        for (const i of dead) lastFired[i] = 0;
      }
    }
    if (step % (o.logEvery ?? 250) === 0 || step === o.steps - 1) {
      let deadNow = 0;
      for (let i = 0; i < w; i++) if (lastFired[i]! >= Math.min(o.deadWindow || 200, step + 1)) deadNow++;
      const entry = { step, mse: (await mseT.data())[0]! / d, l0: (await l0T.data())[0]!, dead: deadNow };
      log.push(entry);
      o.onLog?.(step, entry);
    }
    mseT.dispose();
    l0T.dispose();
    xb.dispose();
    if (step % 20 === 0) await new Promise((r) => setImmediate(r));
  }

  // fold the input scaling: pre = (s·x)·W_enc + b_enc  ⇒  W_enc' = s·W_enc;  x̂ = (f·W_dec + b_dec)/s
  const out = async (t: tf.Tensor) => new Float32Array(await t.data());
  const params: GemmaScopeParams = {
    W_enc: { shape: [d, w], data: await out(tf.tidy(() => tf.mul(V.W_enc, inputScale))) },
    b_enc: { shape: [w], data: await out(V.b_enc) },
    W_dec: { shape: [w, d], data: await out(tf.tidy(() => tf.div(V.W_dec, inputScale))) },
    b_dec: { shape: [d], data: await out(tf.tidy(() => tf.div(V.b_dec, inputScale))) },
    threshold: { shape: [w], data: await out(tf.tidy(() => tf.exp(V.log_threshold))) },
  };
  for (const n of names) {
    V[n].dispose();
    m1[n].dispose();
    m2[n].dispose();
  }
  X.dispose();
  mean.dispose();
  return { params, inputScale, resampled, log };
}

async function resample(
  dead: number[],
  X: tf.Tensor2D,
  V: Record<'W_dec' | 'W_enc' | 'b_enc' | 'b_dec' | 'log_threshold', tf.Variable>,
  m1: Record<string, tf.Variable>,
  m2: Record<string, tf.Variable>,
  rng: Rng,
  o: SaeTrainOptions,
): Promise<void> {
  const [N, d] = X.shape;
  const w = V.W_dec.shape[0];
  // candidates: a random sample of inputs, weighted by their current reconstruction error
  const S = Math.min(N, 4096);
  const idx = new Int32Array(S);
  for (let i = 0; i < S; i++) idx[i] = rng.int(N);
  const { errs, xs } = tf.tidy(() => {
    const xb = tf.gather(X, tf.tensor1d(idx, 'int32'));
    const pre = tf.add(tf.matMul(xb, V.W_enc), V.b_enc);
    const f = tf.mul(pre, tf.cast(tf.greater(pre, tf.exp(V.log_threshold)), 'float32'));
    const xh = tf.add(tf.matMul(f, V.W_dec), V.b_dec);
    return { errs: tf.keep(tf.sum(tf.square(tf.sub(xb, xh)), -1)), xs: tf.keep(tf.sub(xb, V.b_dec)) };
  });
  const e = await errs.data();
  const xv = await xs.data();
  errs.dispose();
  xs.dispose();
  let total = 0;
  for (let i = 0; i < S; i++) total += e[i]!;
  const Wdec = new Float32Array(await V.W_dec.data());
  const Wenc = new Float32Array(await V.W_enc.data());
  const benc = new Float32Array(await V.b_enc.data());
  const lth = new Float32Array(await V.log_threshold.data());
  // mean encoder norm of live features
  const deadSet = new Set(dead);
  let encNorm = 0;
  let live = 0;
  for (let i = 0; i < w; i++) {
    if (deadSet.has(i)) continue;
    let n = 0;
    for (let j = 0; j < d; j++) n += Wenc[j * w + i]! ** 2;
    encNorm += Math.sqrt(n);
    live++;
  }
  encNorm = live ? encNorm / live : 1;
  for (const fi of dead) {
    let r = rng.next() * total;
    let k = 0;
    while (k < S - 1 && (r -= e[k]!) > 0) k++;
    let n = 0;
    for (let j = 0; j < d; j++) n += xv[k * d + j]! ** 2;
    n = Math.sqrt(n) || 1;
    for (let j = 0; j < d; j++) {
      const u = xv[k * d + j]! / n;
      Wdec[fi * d + j] = u;
      Wenc[j * w + fi] = u * encNorm * 0.2;
    }
    benc[fi] = 0;
    lth[fi] = Math.log(o.initThreshold);
  }
  tf.tidy(() => {
    V.W_dec.assign(tf.tensor2d(Wdec, [w, d]));
    V.W_enc.assign(tf.tensor2d(Wenc, [d, w]));
    V.b_enc.assign(tf.tensor1d(benc));
    V.log_threshold.assign(tf.tensor1d(lth));
    // reset the optimiser moments of the resampled features
    const colMask = new Float32Array(w).fill(1);
    for (const fi of dead) colMask[fi] = 0;
    const cm = tf.tensor1d(colMask);
    for (const m of [m1, m2]) {
      m.W_enc!.assign(tf.mul(m.W_enc!, cm));
      m.b_enc!.assign(tf.mul(m.b_enc!, cm));
      m.log_threshold!.assign(tf.mul(m.log_threshold!, cm));
      m.W_dec!.assign(tf.mul(m.W_dec!, tf.reshape(cm, [w, 1])));
    }
  });
}

/** Gemma Scope encode/decode on plain arrays' tensors (for evaluation). */
export function saeReconstruct(p: GemmaScopeParams, x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const pre = tf.add(tf.matMul(x, tf.tensor2d(p.W_enc.data, p.W_enc.shape as [number, number])), tf.tensor1d(p.b_enc.data));
    const f = tf.mul(pre, tf.cast(tf.greater(pre, tf.tensor1d(p.threshold.data)), 'float32'));
    return tf.add(tf.matMul(f, tf.tensor2d(p.W_dec.data, p.W_dec.shape as [number, number])), tf.tensor1d(p.b_dec.data)) as tf.Tensor2D;
  });
}

/** Fraction of variance explained and mean L0 on held-out activations (N × d). */
export async function saeMetrics(p: GemmaScopeParams, acts: Float32Array, d: number): Promise<{ fve: number; l0: number }> {
  const N = acts.length / d;
  const x = tf.tensor2d(acts, [N, d]);
  const r = tf.tidy(() => {
    const pre = tf.add(tf.matMul(x, tf.tensor2d(p.W_enc.data, p.W_enc.shape as [number, number])), tf.tensor1d(p.b_enc.data));
    const on = tf.cast(tf.greater(pre, tf.tensor1d(p.threshold.data)), 'float32');
    const xh = saeReconstruct(p, x);
    const res = tf.sum(tf.square(tf.sub(x, xh)));
    const tot = tf.sum(tf.square(tf.sub(x, tf.mean(x, 0))));
    return tf.stack([res, tot, tf.mean(tf.sum(on, -1))]);
  });
  const [res, tot, l0] = Array.from(await r.data());
  x.dispose();
  r.dispose();
  return { fve: 1 - res! / tot!, l0: l0! };
}

/** Write Gemma Scope params.npz (W_enc, b_enc, W_dec, b_dec, threshold). */
export function writeGemmaScopeNpz(path: string, p: GemmaScopeParams): void {
  writeNpz(path, { W_enc: p.W_enc, b_enc: p.b_enc, W_dec: p.W_dec, b_dec: p.b_dec, threshold: p.threshold });
}
