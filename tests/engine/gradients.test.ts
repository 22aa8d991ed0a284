import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../workers/engine/backend.js';
import { gradientsAtHooks, hookNames, loadModel, type LoadedModel } from '../../workers/model/index.js';
import { fixturesDir } from '../helpers/fixtures.js';

// Finite differences against tfjs gradients at hook points, on the tiny Gemma-2 fixture.
describe('gradients at hook points', () => {
  let lm: LoadedModel;
  beforeAll(async () => {
    await initBackend();
    lm = await loadModel(path.join(fixturesDir, 'gemma2-tiny'));
  });
  const batch = { inputIds: [[0, 0, 2, 17, 99, 4], [2, 5, 6, 7, 8, 9]], attentionMask: [[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]] };
  // Metric: logit difference at the last position, summed over the batch.
  const metric = (logits: tf.Tensor3D) => {
    const [B, T, V] = logits.shape;
    const last = tf.reshape(tf.slice(logits, [0, T - 1, 0], [B, 1, V]), [B, V]);
    return tf.sum(tf.sub(tf.slice(last, [0, 10], [B, 1]), tf.slice(last, [0, 20], [B, 1]))) as tf.Scalar;
  };

  it('agrees with central finite differences at resid_post of every layer', () => {
    const L = lm.config.nLayers;
    const points = Array.from({ length: L }, (_, l) => hookNames.residPost(l));
    const before = tf.memory().numTensors;
    const { value, grads } = gradientsAtHooks(lm.model, batch, points, (out) => metric(out.logits!));
    expect(Number.isFinite(value)).toBe(true);
    const eps = 1e-2;
    const d = lm.config.dModel;
    for (const [l, pos, b, k] of [[0, 5, 0, 3], [1, 4, 1, 10], [3, 5, 1, 63], [2, 3, 0, 7]] as const) {
      const g = grads.get(points[l]!)!.dataSync()[(b * 6 + pos) * d + k]!;
      const bump = (sign: number) =>
        tf.tidy(() => {
          const delta = tf.buffer([2, 6, d]);
          delta.set(sign * eps, b, pos, k);
          const dt = delta.toTensor();
          const out = lm.model.forward(batch, { hooks: [{ point: points[l]!, fn: (x) => tf.add(x, dt) as tf.Tensor3D }] });
          return metric(out.logits!).dataSync()[0]!;
        });
      const fd = (bump(1) - bump(-1)) / (2 * eps);
      expect(Math.abs(fd - g), `layer ${l} pos ${pos} dim ${k}: fd ${fd} vs grad ${g}`).toBeLessThan(2e-3 + 2e-2 * Math.abs(g));
    }
    // A pad position gets no gradient from valid outputs.
    const padGrad = tf.slice(grads.get(points[0]!)!, [0, 0, 0], [1, 2, d]);
    const padMax = tf.tidy(() => tf.max(tf.abs(padGrad)));
    expect(padMax.dataSync()[0]).toBe(0);
    padMax.dispose();
    padGrad.dispose();
    for (const t of grads.values()) t.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reaches tensors introduced by hooks (gradient leaves)', () => {
    const before = tf.memory().numTensors;
    const d = lm.config.dModel;
    const scale = tf.ones([d]);
    const { grads } = tf.tidy(() => {
      const r = tf.valueAndGrads((s: tf.Tensor) => {
        const out = lm.model.forward(batch, { hooks: [{ point: hookNames.residPost(1), fn: (x) => tf.mul(x, s) as tf.Tensor3D }] });
        return metric(out.logits!);
      })([scale]);
      return { grads: r.grads };
    });
    expect(grads[0]!.shape).toEqual([d]);
    const total = tf.tidy(() => tf.sum(tf.abs(grads[0]!)));
    expect(total.dataSync()[0]).toBeGreaterThan(0);
    total.dispose();
    grads[0]!.dispose();
    scale.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
