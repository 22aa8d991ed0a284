/** S3: the cosine pool streamed from disk equals the pool from loaded layers (gemma-scope tree on disk). */
import { describe, expect, it, beforeAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { writeNpz } from '../../workers/engine/io/npy.js';
import { SaeSet } from '../../workers/sae/set.js';
import { providerFromSaeSet } from '../../workers/refusal/lens.js';
import { cosinePool } from '../../workers/refusal/pool.js';
import { quietCtx, type Lens } from '../../workers/refusal/types.js';
import { toySae } from './toy.js';
import { toyCodec, useCpu } from './helpers.js';

describe('S3 streaming', () => {
  beforeAll(useCpu);
  it('cosine pool from decoder chunks equals the loaded-layer pool', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-sae-tree-'));
    for (const l of [0, 1]) {
      const s = toySae(l, 16, 40, 500 + l);
      const dir = path.join(root, `layer_${l}`, 'width_40', 'average_l0_5');
      fs.mkdirSync(dir, { recursive: true });
      const arr = (t: tf.Tensor) => ({ shape: t.shape, data: Float32Array.from(t.dataSync()) });
      writeNpz(path.join(dir, 'params.npz'), { W_enc: arr(s.W_enc), b_enc: arr(s.b_enc), W_dec: arr(s.W_dec), b_dec: arr(s.b_dec), threshold: arr(s.threshold!) });
      s.dispose();
    }
    const v = Float32Array.from({ length: 16 }, (_, i) => Math.sin(i + 1));
    const results: Awaited<ReturnType<typeof cosinePool>>[] = [];
    for (const resident of [true, false]) {
      const set = SaeSet.open(root);
      const provider = providerFromSaeSet(set, { resident });
      const lens = { saes: provider, codec: toyCodec(), family: 'gemma2' } as unknown as Lens;
      results.push(await cosinePool(lens, { direction: v, k: 5, kStar: 6 }, quietCtx()));
      if (!resident) expect(set.residentLayers()).toEqual([]);
      set.close();
    }
    expect(results[1].pool).toEqual(results[0].pool);
    expect(results[1].cossim).toEqual(results[0].cossim);
    results[1].poolCos[0].forEach((c, i) => expect(c).toBeCloseTo(results[0].poolCos[0][i], 5));
  });
});
