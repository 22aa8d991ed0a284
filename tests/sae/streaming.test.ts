import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../workers/engine/backend.js';
import { encodeSlice, SaeSet } from '../../workers/sae/index.js';
import { FIX, maxAbsDiff, readBin } from './helpers.js';

beforeAll(async () => {
  await initBackend();
});

describe('streaming one SAE layer (or a fraction of one) at a time', () => {
  for (const [name, p, dir] of [
    ['gemma scope', `${FIX}/sae-gemmascope/params.npz`, `${FIX}/sae-gemmascope`],
    ['llama scope (transposed storage)', `${FIX}/sae-saelens/raw_llamascope/L1R-8x`, `${FIX}/sae-saelens`],
  ] as const) {
    it(`feature chunks encode exactly like the whole SAE: ${name}`, () => {
      const set = SaeSet.open(p, { layer: name.startsWith('gemma') ? 2 : undefined });
      const layer = set.layers[0]!;
      const x = tf.tensor2d(readBin(dir, 'sae_in').data as Float32Array, [24, 64]);
      const parts: tf.Tensor[] = [];
      const wdec: tf.Tensor[] = [];
      const before = tf.memory().numTensors;
      for (const slice of set.featureChunks(layer, 100)) {
        parts.push(encodeSlice(slice, x));
        wdec.push(tf.clone(slice.W_dec));
      }
      expect(set.residentLayers()).toEqual([]);
      expect(tf.memory().numTensors).toBe(before + parts.length + wdec.length);
      const f = tf.concat(parts, 1);
      expect(maxAbsDiff(f.dataSync(), readBin(dir, 'feature_acts').data)).toBeLessThanOrEqual(1e-4);
      const full = set.get(layer);
      expect(maxAbsDiff(tf.concat(wdec, 0).dataSync(), full.W_dec.dataSync())).toBe(0);
      let rows = 0;
      for (const c of set.decoderChunks(layer, 128)) {
        expect(maxAbsDiff(c.W_dec.dataSync(), tf.slice(full.W_dec, [c.r0, 0], [c.rows, 64]).dataSync())).toBe(0);
        rows += c.rows;
      }
      expect(rows).toBe(full.meta.dSae);
      tf.dispose([x, f, ...parts, ...wdec]);
      set.close();
    });
  }
});

describe('streamed full-width encode and decoder projection', () => {
  it('equal the resident SAE, without loading the layer', () => {
    for (const [p, dir, layer] of [
      [`${FIX}/sae-gemmascope/params.npz`, `${FIX}/sae-gemmascope`, 2],
      [`${FIX}/sae-saelens/raw_llamascope/L1R-8x`, `${FIX}/sae-saelens`, 1],
    ] as const) {
      const set = SaeSet.open(p, { layer });
      const x = tf.tensor2d(readBin(dir, 'sae_in').data as Float32Array, [24, 64]);
      const g = tf.randomNormal([24, 64], 0, 1, 'float32', 3) as tf.Tensor2D;
      const f = set.encodeStreamed(layer, x, 96);
      const proj = set.decoderProjection(layer, g, 50);
      expect(set.residentLayers()).toEqual([]);
      expect(maxAbsDiff(f.dataSync(), readBin(dir, 'feature_acts').data)).toBeLessThanOrEqual(1e-4);
      const sae = set.get(layer);
      expect(maxAbsDiff(proj.dataSync(), tf.matMul(g, sae.W_dec, false, true).dataSync())).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(set.encodeStreamed(layer, x).dataSync(), f.dataSync())).toBeLessThanOrEqual(1e-6);
      set.close();
    }
  });
});

describe('synthetic Gemma Scope trees (benchmarks)', () => {
  it('write a tree that SaeSet opens, with unit decoder rows', async () => {
    const { writeSyntheticGemmaScopeTree } = await import('../../workers/sae/index.js');
    const { tmpDir } = await import('./helpers.js');
    const fs = await import('node:fs');
    const root = tmpDir('synth');
    writeSyntheticGemmaScopeTree(root, { layers: [0, 1, 2], dIn: 16, dSae: 64, seed: 3 });
    const set = SaeSet.open(root);
    expect(set.layers).toEqual([0, 1, 2]);
    expect(set.estimateBytes()).toBe(3 * 4 * (2 * 16 * 64 + 64 + 16 + 64));
    const sae = set.get(1);
    const norms = tf.sqrt(tf.sum(tf.square(sae.W_dec), 1)).dataSync();
    for (const n of norms) expect(Math.abs(n - 1)).toBeLessThan(1e-5);
    set.close();
    fs.rmSync(root, { recursive: true, force: true });
  });
});
