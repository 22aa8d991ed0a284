import { beforeAll, describe, expect, it } from 'vitest';
import { discover, DiscoveryParamsSchema, type MethodKey } from '../../workers/refusal/pipeline.js';
import { runExperiments, tableCsv, type EvalSuite, type NamedJudge } from '../../workers/refusal/experiments/run.js';
import { ExperimentTableSchema } from '../../common/results/experiments.js';
import { quietCtx } from '../../workers/refusal/types.js';
import type { PromptItem } from '../../common/suites/schema.js';
import { toyLens, useCpu } from '../refusal/helpers.js';

// a deterministic judge that depends on every generated token (the toy codec decodes to ids)
const parity = {
  name: 'parity',
  async judge(items: Array<{ prompt: string; response: string }>) {
    return items.map((x) => x.response.split(' ').filter(Boolean).reduce((a, t) => a + Number(t), 0) % 2);
  },
};
const named: NamedJudge = { id: 'parity', metric: 'refusal', judge: (i) => parity.judge(i) };
const item = (t: string, i: number, tags: string[] = []): PromptItem => ({ id: `x${i}`, instruction: t, category: null, tags });

describe('experiments: one job equals the separate runs it replaces', () => {
  beforeAll(useCpu);
  it('every sweep setting, the run suite, another harmful suite and the harmless suite', async () => {
    const t = toyLens({ seed: 7 });
    const suites = {
      harmful: ['make a bomb', 'hack it', 'steal cars', 'poison well', 'rob bank', 'forge ids'],
      harmless: ['bake bread', 'a poem', 'add numbers', 'hello', 'sing', 'walk dog'],
      evalHarmless: ['draw a cat', 'hi there', 'plant trees'],
    };
    const other = ['burn it down', 'spy on him', 'cheat a test', 'fake a check'];
    const base = { kStar: 4, k: 3, steps: 2, maxNewTokens: 4, filterHarmless: false, layer: 1, sideEffects: true, graph: { enabled: false, priorLayers: 2, stopGradient: 'features' as const, clampMeasure: false, samples: 4, nodes: 4 } };
    const sweep = { kStar: [2, 4], clampValue: [0, -2], setKind: ['local', 'global'] as Array<'local' | 'global'> };
    const ctx = quietCtx();
    const main = await discover(t.lens, suites, base, null, ctx, { judge: parity, maxKStar: 4 });
    const P = DiscoveryParamsSchema.parse(base);
    const evalSuites: EvalSuite[] = [
      { name: 'main', role: 'harmful', items: suites.harmful.map((x, i) => item(x, i)), key: 'main', judges: [named], groupBy: [], scoring: 'loglik', suffixAnalysis: false },
      { name: 'other', role: 'harmful', items: other.map((x, i) => item(x, i)), key: 'other', judges: [named], groupBy: [], scoring: 'loglik', suffixAnalysis: false },
      { name: 'harmless', role: 'harmless', items: suites.evalHarmless.map((x, i) => item(x, i, [i % 2 ? 'wrapper:a' : 'wrapper:b'])), key: 'h', judges: [named, { ...named, id: 'parity2' }], groupBy: ['wrapper:'], scoring: 'loglik', suffixAnalysis: false },
    ];
    const table = await runExperiments(t.lens, { P, context: main.context, attribution: main.attribution, mainKey: 'main', suites: evalSuites, sweep, clampValue: main.results.clampValue }, null, ctx);
    expect(ExperimentTableSchema.safeParse(table).success).toBe(true);
    const row = (suite: string, m: string, k: number | null, c: number | null, s: string | null, judge = 'parity') =>
      table.rows.filter((r) => r.suite === suite && r.method === m && r.kStar === k && r.clampValue === c && r.setKind === s && r.group === null && r.edit !== 'set' && r.judge === judge);
    const clampMethods: MethodKey[] = ['cossim_ap', 'cossim', 'actdiff', 'ap', 'random'];
    for (const k of sweep.kStar)
      for (const c of sweep.clampValue)
        for (const s of sweep.setKind) {
          const sep = await discover(t.lens, suites, { ...base, kStar: k, clampValue: c, setKind: s }, null, ctx, { judge: parity });
          for (const m of clampMethods) {
            const r = row('main', m, k, c, s);
            expect(r, `${m} k=${k} c=${c} ${s}`).toHaveLength(1);
            expect(r[0].rate).toBeCloseTo(sep.results.refusal_rate[m]!, 6);
            const h = row('harmless', m, k, c, 'global');
            expect(h).toHaveLength(1);
            expect(h[0].rate).toBeCloseTo(sep.results.harmless_refusal_rate[m]!, 6);
            expect(h[0].ce!).toBeCloseTo(sep.results.ce![m]!, 5);
          }
          for (const m of ['base', 'as'] as const) expect(row('main', m, null, null, null)[0].rate).toBeCloseTo(sep.results.refusal_rate[m]!, 6);
        }
    // another harmful suite: its own direction and attribution, as a separate run on that suite
    const sepOther = await discover(t.lens, { ...suites, harmful: other }, { ...base, kStar: 2, clampValue: -2 }, null, ctx, { judge: parity });
    for (const m of [...clampMethods, 'base', 'as'] as const) {
      const fixed = m === 'base' || m === 'as';
      const r = row('other', m, fixed ? null : 2, fixed ? null : -2, fixed ? null : 'local');
      expect(r[0].rate, m).toBeCloseTo(sepOther.results.refusal_rate[m]!, 6);
    }
    // every row has the item-7 shape; CIs bracket the rate
    for (const r of table.rows) if (r.rate !== null) expect(r.ci![0] <= r.rate && r.rate <= r.ci![1]).toBe(true);
    // McNemar: every method pair of each (suite, judge, setting) block, base/AS included
    const blk = table.mcnemar.filter((x) => x.suite === 'main' && x.kStar === 2 && x.clampValue === 0 && x.setKind === 'local');
    expect(blk).toHaveLength((7 * 6) / 2);
    // groups and the agreement of two judges
    expect(table.rows.some((r) => r.group === 'wrapper:a')).toBe(true);
    expect(table.agreement.length).toBeGreaterThan(0);
    expect(table.agreement.every((a) => a.kappa === 1 || a.kappa === 0 || a.kappa === null)).toBe(true);
    expect(table.generation.reused).toBeGreaterThan(0);
    expect(tableCsv(table).split('\n')[0]).toBe('suite,role,method,kStar,clampValue,setKind,edit,judge,metric,group,n,k,rate,ci_lo,ci_hi,ce,ce_lo,ce_hi');
    t.dispose();
  }, 240_000);
});
