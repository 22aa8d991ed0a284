/**
 * Trains a small Gemma-2 model with tfjs + Adam on tokenised examples (loss only where weight > 0,
 * e.g. the assistant's tokens). Deterministic from a seed on a given backend: seeded init, seeded batch
 * order, no dropout.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../model/types.js';
import { Rng } from '../demo/prng.js';
import '../engine/register-gradients.js';
import { gemma2Forward, initParams, weightedCrossEntropy, type Params } from './gemma2.js';

export interface TrainExample {
  /** Token ids of the whole sequence. */
  ids: number[];
  /** Loss weight of predicting ids[i+1] from position i (length ids.length − 1). */
  weights: number[];
}

export interface ModelTrainOptions {
  steps: number;
  batchSize: number;
  lr: number;
  warmupSteps: number;
  /** Final learning rate as a fraction of lr (cosine decay). */
  minLrFrac: number;
  weightDecay: number;
  seed: number;
  padId: number;
  onLog?: (step: number, loss: number, lr: number) => void;
  logEvery?: number;
}

export interface TrainedModel {
  /** Internal layout (see gemma2.ts). */
  params: Record<string, { shape: number[]; data: Float32Array }>;
  losses: { step: number; loss: number }[];
}

export function makeBatch(examples: TrainExample[], idx: number[], padId: number) {
  const T = Math.max(...idx.map((i) => examples[i]!.ids.length)) - 1;
  const B = idx.length;
  const inp = new Int32Array(B * T).fill(padId);
  const tgt = new Int32Array(B * T).fill(padId);
  const w = new Float32Array(B * T);
  idx.forEach((ei, b) => {
    const ex = examples[ei]!;
    for (let t = 0; t < ex.ids.length - 1; t++) {
      inp[b * T + t] = ex.ids[t]!;
      tgt[b * T + t] = ex.ids[t + 1]!;
      w[b * T + t] = ex.weights[t]!;
    }
  });
  return {
    inputs: tf.tensor2d(inp, [B, T], 'int32'),
    targets: tf.tensor2d(tgt, [B, T], 'int32'),
    weights: tf.tensor2d(w, [B, T]),
  };
}

export async function trainModel(cfg: ModelConfig, examples: TrainExample[], o: ModelTrainOptions): Promise<TrainedModel> {
  const rng = new Rng(o.seed ^ 0x5eed);
  const init = initParams(cfg, o.seed);
  const vars: Record<string, tf.Variable> = {};
  for (const [n, { shape, data }] of Object.entries(init)) vars[n] = tf.variable(tf.tensor(data, shape), true, `p_${n}`);
  const P = vars as unknown as Params;
  const opt = tf.train.adam(o.lr, 0.9, 0.98, 1e-8);
  const losses: { step: number; loss: number }[] = [];
  const decayNames = Object.keys(vars).filter((n) => vars[n]!.shape.length === 2);
  let order: number[] = [];
  let cursor = 0;
  const nextIdx = () => {
    const out: number[] = [];
    while (out.length < o.batchSize) {
      if (cursor >= order.length) {
        order = rng.shuffle(examples.map((_, i) => i));
        cursor = 0;
      }
      out.push(order[cursor++]!);
    }
    return out;
  };
  for (let step = 0; step < o.steps; step++) {
    const warm = Math.min(1, (step + 1) / Math.max(1, o.warmupSteps));
    const prog = Math.max(0, (step - o.warmupSteps) / Math.max(1, o.steps - o.warmupSteps));
    const lr = o.lr * warm * (o.minLrFrac + (1 - o.minLrFrac) * 0.5 * (1 + Math.cos(Math.PI * prog)));
    (opt as unknown as { learningRate: number }).learningRate = lr;
    const batch = makeBatch(examples, nextIdx(), o.padId);
    const lossT = opt.minimize(() => {
      const { logits } = gemma2Forward(cfg, P, batch.inputs);
      return weightedCrossEntropy(logits!, batch.targets, batch.weights);
    }, true);
    if (o.weightDecay > 0) {
      tf.tidy(() => {
        for (const n of decayNames) vars[n]!.assign(tf.mul(vars[n]!, 1 - lr * o.weightDecay));
      });
    }
    batch.inputs.dispose();
    batch.targets.dispose();
    batch.weights.dispose();
    const logEvery = o.logEvery ?? 50;
    if (step % logEvery === 0 || step === o.steps - 1) {
      const loss = (await lossT!.data())[0]!;
      losses.push({ step, loss });
      o.onLog?.(step, loss, lr);
    }
    lossT?.dispose();
    if (step % 10 === 0) await new Promise((r) => setImmediate(r));
  }
  const params: TrainedModel['params'] = {};
  for (const [n, v] of Object.entries(vars)) {
    params[n] = { shape: v.shape.slice(), data: new Float32Array(await v.data()) };
    v.dispose();
  }
  opt.dispose();
  return { params, losses };
}
