import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../workers/engine/backend.js';
import { loadSae, type LoadSaeOptions } from '../../workers/sae/load.js';
import { FIX, activeSets, maxAbsDiff, readBin } from './helpers.js';

beforeAll(async () => {
  await initBackend();
});

const F = 0.7629012908566744;

const cases: Array<{ name: string; path: string; dir: string; opts: LoadSaeOptions; hook: string }> = [
  { name: 'gemmascope params.npz', path: `${FIX}/sae-gemmascope/params.npz`, dir: `${FIX}/sae-gemmascope`, opts: { layer: 2 }, hook: 'blocks.2.hook_resid_post' },
  { name: 'gemmascope folder', path: `${FIX}/sae-gemmascope`, dir: `${FIX}/sae-gemmascope`, opts: { layer: 2, format: 'gemmascope' }, hook: 'blocks.2.hook_resid_post' },
  { name: 'saelens unfolded + factor', path: `${FIX}/sae-saelens`, dir: `${FIX}/sae-saelens`, opts: { normScalingFactor: F }, hook: 'blocks.1.hook_resid_post' },
  { name: 'saelens folded/', path: `${FIX}/sae-saelens/folded`, dir: `${FIX}/sae-saelens`, opts: {}, hook: 'blocks.1.hook_resid_post' },
  { name: 'llama scope native', path: `${FIX}/sae-saelens/raw_llamascope/L1R-8x`, dir: `${FIX}/sae-saelens`, opts: {}, hook: 'blocks.1.hook_resid_post' },
  { name: 'llama scope native, explicit factor', path: `${FIX}/sae-saelens/raw_llamascope/L1R-8x`, dir: `${FIX}/sae-saelens`, opts: { normScalingFactor: F, format: 'llamascope' }, hook: 'blocks.1.hook_resid_post' },
];

describe('SAE fixtures (SAELens 6.18 reference)', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const sae = await loadSae(c.path, c.opts);
      try {
        const x = readBin(c.dir, 'sae_in');
        const [N, d] = x.shape as [number, number];
        expect(sae.meta.dIn).toBe(d);
        expect(sae.meta.hookPoint).toBe(c.hook);
        const xin = tf.tensor2d(x.data as Float32Array, [N, d]);
        const pre = sae.hiddenPre(xin);
        const f = sae.encode(xin);
        const out = sae.decode(f);
        const err = tf.sub(xin, out);
        const w = sae.meta.dSae;
        const fd = f.dataSync();
        expect(maxAbsDiff(pre.dataSync(), readBin(c.dir, 'hidden_pre').data)).toBeLessThanOrEqual(1e-4);
        expect(maxAbsDiff(fd, readBin(c.dir, 'feature_acts').data)).toBeLessThanOrEqual(1e-4);
        expect(maxAbsDiff(out.dataSync(), readBin(c.dir, 'sae_out').data)).toBeLessThanOrEqual(1e-4);
        expect(maxAbsDiff(err.dataSync(), readBin(c.dir, 'recon_error').data)).toBeLessThanOrEqual(1e-4);
        expect(activeSets(fd, N, w)).toEqual(activeSets(readBin(c.dir, 'feature_acts').data, N, w));
        const l0 = activeSets(fd, N, w).map((s) => s.length);
        expect(l0).toEqual([...readBin(c.dir, 'l0_per_token').data]);
        const mse = tf.mean(tf.square(err), 1).dataSync();
        expect(maxAbsDiff(mse, readBin(c.dir, 'mse_per_token').data)).toBeLessThanOrEqual(1e-4);
        tf.dispose([xin, pre, f, out, err]);
      } finally {
        sae.dispose();
      }
    });
  }
});
