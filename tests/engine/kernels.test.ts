/**
 * The wasm kernel fixes (workers/engine/backend/wasm-kernels.ts) against the cpu backend, ≤ 1e-5 relative:
 * BatchMatMul with every transpose combination, folded [B,M,K]@[K,N], rank-4 batched (attention),
 * broadcasting, the gradient of matMul with transposes, UnsortedSegmentSum and the gather gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../workers/engine/backend.js';
import { batchMatMulOptions, batchMatMulStats } from '../../workers/engine/backend/wasm-kernels.js';

type Arr = Float32Array | Int32Array | Uint8Array;

/** Deterministic pseudo-random values in [-1, 1). */
function rand(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function relErr(a: Arr, b: Arr): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 1e-30;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

/** Runs `fn` on cpu and on wasm with the same inputs; returns [wasm, cpu] outputs. */
async function both(fn: () => tf.Tensor | tf.Tensor[]): Promise<[Arr[], Arr[], number[][]]> {
  const run = async (name: 'cpu' | 'wasm') => {
    await initBackend({ preference: name });
    const before = tf.memory().numTensors;
    const out = tf.tidy(fn);
    const list = Array.isArray(out) ? out : [out];
    const vals = await Promise.all(list.map((t) => t.data()));
    const shapes = list.map((t) => t.shape);
    tf.dispose(list);
    expect(tf.memory().numTensors).toBe(before);
    return { vals, shapes };
  };
  const c = await run('cpu');
  const w = await run('wasm');
  expect(w.shapes).toEqual(c.shapes);
  return [w.vals, c.vals, w.shapes];
}

function t(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(rand(shape.reduce((a, b) => a * b, 1), seed), shape, 'float32');
}

const TOL = 1e-5;

describe('wasm kernel fixes vs cpu', () => {
  beforeAll(async () => {
    await initBackend({ preference: 'wasm' });
  });
  afterAll(async () => {
    await initBackend({ preference: 'wasm' });
  });

  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    it(`2-D matMul transposeA=${ta} transposeB=${tb}`, async () => {
      const [M, K, N] = [37, 53, 29];
      const [w, c] = await both(() =>
        tf.matMul(t(ta ? [K, M] : [M, K], 1), t(tb ? [N, K] : [K, N], 2), ta, tb),
      );
      expect(relErr(w[0], c[0])).toBeLessThan(TOL);
    });
  }

  it('folds [B,M,K] @ [K,N] into one 2-D matmul', async () => {
    const before = batchMatMulStats.folded;
    const [w, c, shapes] = await both(() => tf.matMul(t([3, 17, 64], 3), t([64, 40], 4)));
    expect(shapes[0]).toEqual([3, 17, 40]);
    expect(relErr(w[0], c[0])).toBeLessThan(TOL);
    expect(batchMatMulStats.folded).toBeGreaterThan(before);
  });

  it('folds [B,M,K] @ [N,K]ᵀ (a linear layer with HF [out,in] weights)', async () => {
    const [w, c] = await both(() => tf.matMul(t([2, 9, 48], 5), t([1, 33, 48], 6), false, true));
    expect(relErr(w[0], c[0])).toBeLessThan(TOL);
  });

  it('batched rank-4 matmul (attention scores q·kᵀ and probs·v)', async () => {
    const before = batchMatMulStats.perBatch;
    const saved = batchMatMulOptions.perBatchMinMacs;
    batchMatMulOptions.perBatchMinMacs = 0; // small shapes would otherwise stay on the stock loop
    const [B, H, T, D] = [2, 3, 11, 16];
    const [w, c] = await both(() => {
      const q = t([B, H, T, D], 7);
      const k = t([B, H, T, D], 8);
      const v = t([B, H, T, D], 9);
      const scores = tf.matMul(q, k, false, true);
      const probs = tf.softmax(scores);
      return [scores, tf.matMul(probs, v), tf.matMul(q, k, true, false)];
    });
    batchMatMulOptions.perBatchMinMacs = saved;
    for (let i = 0; i < 3; i++) expect(relErr(w[i], c[i])).toBeLessThan(TOL);
    expect(batchMatMulStats.perBatch).toBeGreaterThan(before);
  });

  it('batched rank-4 matmul at attention size (per-batch XNNPACK by default)', async () => {
    const before = batchMatMulStats.perBatch;
    const [w, c] = await both(() => tf.matMul(t([2, 2, 64, 64], 25), t([2, 2, 48, 64], 26), false, true));
    expect(relErr(w[0], c[0])).toBeLessThan(TOL);
    expect(batchMatMulStats.perBatch).toBeGreaterThan(before);
  });

  it('a without batch against batched b, and true broadcasting', async () => {
    const [w, c] = await both(() => [
      tf.matMul(t([1, 7, 12], 10), t([4, 12, 5], 11)),
      tf.matMul(t([2, 1, 7, 12], 12), t([1, 3, 12, 5], 13), false, false),
    ]);
    expect(relErr(w[0], c[0])).toBeLessThan(TOL);
    expect(relErr(w[1], c[1])).toBeLessThan(TOL);
  });

  it('gradient of matMul with transposes (2-D and rank-4)', async () => {
    const [w, c] = await both(() => {
      const out: tf.Tensor[] = [];
      for (const [ta, tb] of [[false, true], [true, false], [true, true]] as const) {
        const a = t(ta ? [24, 19] : [19, 24], 14);
        const b = t(tb ? [31, 24] : [24, 31], 15);
        const wgt = t([19, 31], 16);
        const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, ta, tb), wgt)));
        out.push(...g([a, b]));
      }
      const q = t([2, 2, 6, 8], 17);
      const k = t([2, 2, 6, 8], 18);
      const wq = t([2, 2, 6, 6], 19);
      const g4 = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, false, true), wq)));
      out.push(...g4([q, k]));
      return out;
    });
    expect(w.length).toBe(8);
    for (let i = 0; i < w.length; i++) expect(relErr(w[i], c[i])).toBeLessThan(TOL);
  });

  it('UnsortedSegmentSum (JS kernel on wasm)', async () => {
    const [w, c] = await both(() =>
      tf.unsortedSegmentSum(t([6, 5], 20), tf.tensor1d([0, 2, 2, 4, 0, 1], 'int32'), 5),
    );
    expect(relErr(w[0], c[0])).toBeLessThan(TOL);
  });

  it('gather gradient (embedding lookup) on wasm', async () => {
    const [w, c] = await both(() => {
      const table = t([50, 16], 21);
      const ids = tf.tensor2d([[1, 4, 4, 9], [0, 49, 1, 1]], [2, 4], 'int32');
      const wgt = t([2, 4, 16], 22);
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.gather(x, ids), wgt)));
      return g(table);
    });
    expect(relErr(w[0], c[0])).toBeLessThan(TOL);
  });

  it('leaks no tensors or wasm heap bytes across a batched gradient', async () => {
    await initBackend({ preference: 'wasm' });
    const q = t([2, 4, 8, 16], 23);
    const k = t([2, 4, 8, 16], 24);
    const run = () => {
      const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y, false, true)))([q, k]);
      tf.dispose(g);
    };
    run();
    const m0 = tf.memory();
    for (let i = 0; i < 3; i++) run();
    const m1 = tf.memory();
    expect(m1.numTensors).toBe(m0.numTensors);
    expect(m1.numBytes).toBe(m0.numBytes);
    tf.dispose([q, k]);
  });
});
