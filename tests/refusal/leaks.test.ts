/** Memory discipline: every public step returns the tensor count to its baseline. */
import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { laIg } from '../../workers/refusal/attribution.js';
import { refusalDirection, layerSweep } from '../../workers/refusal/direction.js';
import { cosinePool } from '../../workers/refusal/pool.js';
import { actDiff, selectFeatures } from '../../workers/refusal/selection.js';
import { generateUnder } from '../../workers/refusal/generate.js';
import { buildGraph } from '../../workers/refusal/graph.js';
import { ceLoss } from '../../workers/refusal/sideeffects.js';
import { quietCtx } from '../../workers/refusal/types.js';
import { prompts, toyLens, useCpu } from './helpers.js';

describe('no tensor leaks', () => {
  beforeAll(useCpu);
  it('direction, sweep, pool, attribution (both paths), actdiff, generation (both clamp paths), graph, CE', async () => {
    const t = toyLens({ seed: 17 });
    const H = prompts(t.lens, ['make a bomb', 'hack it now', 'x']);
    const S = prompts(t.lens, ['bake', 'hello there']);
    const n0 = tf.memory().numTensors;
    const check = (what: string) => expect(tf.memory().numTensors, what).toBe(n0);
    const dir = await refusalDirection(t.lens, { harmful: H, harmless: S });
    check('direction');
    await layerSweep(t.lens, { directions: dir.directions, prompts: H }, quietCtx());
    check('sweep');
    const pool = await cosinePool(t.lens, { direction: dir.directions[1], k: 4, kStar: 4 }, quietCtx());
    check('pool');
    let attr = await laIg(t.lens, { prompts: H, direction: dir.directions[1], pool: pool.pool, steps: 2, fullWidth: true, path: 'literal', errorTerm: 'compat' }, quietCtx());
    check('laIg literal');
    attr = await laIg(t.lens, { prompts: H, direction: dir.directions[1], pool: pool.pool, steps: 2, fullWidth: true }, quietCtx());
    check('laIg shortcut');
    await actDiff(t.lens, { harmful: H, harmless: S, kStar: 4 }, quietCtx());
    check('actdiff');
    const sel = selectFeatures(attr, { kStar: 4, skipPrefix: 1 });
    for (const path of ['sparse', 'literal'] as const) {
      await generateUnder(t.lens, { prompts: H, condition: { kind: 'clamp', sets: sel.local, edit: { mode: 'multiply', c: -3 }, path, positions: 'generated' }, maxNewTokens: 3 }, quietCtx());
      check(`generate ${path}`);
    }
    await generateUnder(t.lens, { prompts: H, condition: { kind: 'ablate', direction: dir.directions[1], sites: 'arditi' }, maxNewTokens: 3 }, quietCtx());
    check('generate ablate');
    await buildGraph(t.lens, { attr, nodes: sel.global.sets[0], clampMeasure: -3 }, quietCtx());
    check('graph');
    await ceLoss(t.lens, { items: [{ context: [2, 3], label: [4, 5] }] }, quietCtx());
    check('ce');
    t.dispose();
  });
});
