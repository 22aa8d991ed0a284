import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initDemoBackend } from '../../workers/demo/backend.js';
import { Rng } from '../../workers/demo/prng.js';
import { trainJumpReluSae, saeMetrics, writeGemmaScopeNpz } from '../../workers/train/sae-trainer.js';
import { NpzFile } from '../../workers/engine/io/npy.js';

describe('JumpReLU SAE trainer', () => {
  it('recovers sparse synthetic data and writes Gemma Scope params.npz', async () => {
    await initDemoBackend();
    const d = 16;
    const nAtoms = 48;
    const rng = new Rng(3);
    const atoms = Array.from({ length: nAtoms }, () => {
      const v = Array.from({ length: d }, () => rng.normal());
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    });
    const N = 6000;
    const acts = new Float32Array(N * d);
    for (let i = 0; i < N; i++) {
      for (let k = 0; k < 3; k++) {
        const a = atoms[rng.int(nAtoms)]!;
        const s = 1 + 2 * rng.next();
        for (let j = 0; j < d; j++) acts[i * d + j] += s * a[j]!;
      }
    }
    const res = await trainJumpReluSae(acts, d, {
      width: 64, steps: 600, batchSize: 256, lr: 3e-3, l0Coeff: 1e-3, l0WarmupSteps: 200, bandwidth: 0.05,
      initThreshold: 0.05, deadWindow: 150, resampleUntil: 0.6, seed: 0,
    });
    const m = await saeMetrics(res.params, acts.subarray(0, 2000 * d), d);
    expect(m.fve).toBeGreaterThan(0.9);
    expect(m.l0).toBeGreaterThan(0);
    expect(m.l0).toBeLessThan(64);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sae-')), 'params.npz');
    writeGemmaScopeNpz(file, res.params);
    const npz = NpzFile.open(file);
    expect(npz.read('W_enc').shape).toEqual([d, 64]);
    expect(npz.read('W_dec').shape).toEqual([64, d]);
    expect(npz.read('threshold').shape).toEqual([64]);
    expect(npz.read('b_dec').shape).toEqual([d]);
  });
});
