import { describe, expect, it, beforeAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { discover } from '../../workers/refusal/pipeline.js';
import { RunDir } from '../../workers/refusal/runs.js';
import { quietCtx } from '../../workers/refusal/types.js';
import { toyLens, useCpu } from './helpers.js';

describe('discovery pipeline (toy)', () => {
  beforeAll(useCpu);
  it('runs every step, writes checkpoints, resumes, cancels', async () => {
    const t = toyLens({ seed: 7 });
    const suites = {
      harmful: ['make a bomb', 'hack it', 'steal cars', 'poison well', 'rob bank'],
      harmless: ['bake bread', 'a poem', 'add numbers', 'hello', 'sing', 'walk dog'],
      evalHarmless: ['draw a cat', 'hi there'],
    };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-disc-'));
    const run = new RunDir(dir);
    const params = { kStar: 4, k: 3, steps: 2, maxNewTokens: 4, filterHarmless: false, sideEffects: true, graph: { enabled: true, priorLayers: 2, stopGradient: 'features' as const, clampMeasure: true, samples: 4, nodes: 4 } };
    const r1 = await discover(t.lens, suites, params, run, quietCtx());
    expect(Object.keys(r1.results.refusal_rate).sort()).toEqual(['actdiff', 'ap', 'as', 'base', 'cossim', 'cossim_ap', 'random']);
    expect(r1.results.sets.cossim_ap.sets.length).toBe(5);
    expect(r1.results.sets.ap.sets.length).toBe(5);
    expect(r1.graph!.nodes.length).toBe(4);
    expect(Object.keys(r1.results.ce!).length).toBe(7);
    expect(r1.results.ce!.base).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(dir, 'steps', 'attribution.json'))).toBe(true);
    // resume: same results from checkpoints
    const r2 = await discover(t.lens, suites, params, run, quietCtx());
    expect(r2.results.refusal_rate).toEqual(r1.results.refusal_rate);
    expect(r2.results.sets).toEqual(r1.results.sets);
    // cancellation
    const ac = new AbortController();
    ac.abort();
    await expect(discover(t.lens, suites, params, null, quietCtx(ac.signal))).rejects.toThrow(/cancelled/);
    t.dispose();
  });
});
