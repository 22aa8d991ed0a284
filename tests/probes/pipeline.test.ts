/** The probe pipeline on the toy lens: behavioural labels, OOD composition, probes, val-only choice (W5). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PromptItem } from '../../common/suites/schema.js';
import type { Judge } from '../../workers/eval/judges/types.js';
import {
  balancedRows,
  composeOod,
  labelByBehaviour,
  ProbeParamsSchema,
  randomControlFor,
  runProbePipeline,
  type BehaviourLabel,
  type ProbeSplits,
} from '../../workers/probes/pipeline.js';
import { runProbeCommand } from '../../main/cli/probe.js';
import { ProbePipelineSchema, refusalSetFromDiscovery } from '../../workers/probes/project.js';
import { probeCliSummary } from '../../workers/probes/report.js';
import { quietCtx } from '../../workers/refusal/types.js';
import { toyLens, useCpu } from '../refusal/helpers.js';

const item = (id: string, instruction: string, tags: string[] = []): PromptItem => ({ id, instruction, category: null, tags });

/** Judges by a marker in the prompt (so the labels are known), one invalid verdict. */
const markerJudge: Judge = {
  id: 'marker',
  async judge(items) {
    return items.map((i) => (i.prompt.includes('??') ? { invalid: true } : { refused: i.prompt.includes('REFUSE') }));
  },
};

describe('probe data composition', () => {
  const H = Array.from({ length: 30 }, (_, k) => item(`h${k}`, `harm ${k}`));
  const S = Array.from({ length: 20 }, (_, k) => item(`s${k}`, `safe ${k}`));
  it('balancedRows: equal classes, seeded, no duplicates', () => {
    const r = balancedRows(H, S, 50, 3);
    expect(r.filter((x) => x.y === 1).length).toBe(20);
    expect(r.filter((x) => x.y === 0).length).toBe(20);
    expect(new Set(r.map((x) => x.id)).size).toBe(40);
    expect(balancedRows(H, S, 50, 3)).toEqual(r);
  });
  it('composeOod: paper set (vanilla vs jailbreaking) and with refused adversarial prompts, balanced', () => {
    const adv: BehaviourLabel[] = Array.from({ length: 14 }, (_, k) => ({ id: `a${k}`, instruction: `adv ${k}`, y: (k % 2) as 0 | 1, response: '' }));
    const paper = composeOod(H, adv, { perGroup: 100, includeRefused: false, seed: 1 });
    expect(paper.filter((r) => r.y === 0).length).toBe(7);
    expect(paper.filter((r) => r.y === 1).length).toBe(7);
    expect(paper.every((r) => (r.y === 0 ? r.group === 0 && r.id.startsWith('a') : r.group === 1 && r.id.startsWith('h')))).toBe(true);
    const withRefused = composeOod(H, adv, { perGroup: 100, includeRefused: true, seed: 1 });
    expect(withRefused.filter((r) => r.y === 1).length).toBe(7);
    expect(withRefused.filter((r) => r.group === 2).length).toBe(3);
    expect(withRefused.filter((r) => r.group === 2).every((r) => r.y === 1)).toBe(true);
    expect(composeOod(H, adv, { perGroup: 4, includeRefused: false, seed: 1 }).length).toBe(8);
  });
  it('refusal set from discovery results: the global CosSim+AP set; per-sample sets refused', () => {
    const results = { sets: { cossim_ap_global: { kind: 'global', sets: [[{ layer: 2, index: 5 }]] }, cossim_ap: { kind: 'local', sets: [[], []] } } } as never;
    expect(refusalSetFromDiscovery(results)).toEqual([{ layer: 2, index: 5 }]);
    expect(() => refusalSetFromDiscovery(results, 'cossim_ap')).toThrow(/per-sample/);
    expect(() => refusalSetFromDiscovery(results, 'nope')).toThrow(/no "nope"/);
  });
});

describe('probe CLI and pipeline files', () => {
  it('usage errors before any work', async () => {
    await expect(runProbeCommand([])).rejects.toThrow(/--demo or a probe pipeline file/);
    await expect(runProbeCommand(['x.json'])).rejects.toThrow(/--project/);
    await expect(runProbeCommand(['--demo', '--bogus'])).rejects.toThrow(/bogus/);
  });
  it('pipeline file defaults and validation', () => {
    const pl = ProbePipelineSchema.parse({
      kind: 'refusal-workbench/probe-pipeline', schemaVersion: 1, model: 'm', saes: 's',
      data: { kind: 'wildjailbreak', tsv: 'w.tsv' }, refusalFeatures: { discoveryRun: 'discover-1' },
    });
    expect(pl.refusalFeatures).toEqual({ discoveryRun: 'discover-1', set: 'cossim_ap_global' });
    expect(ProbeParamsSchema.parse(pl.params)).toMatchObject({ seed: 42, trainPerClass: 2000, valPerClass: 400, testPerGroup: 500, mask: 'default', position: 'last', randomDraws: 1 });
    expect(() => ProbePipelineSchema.parse({ ...pl, data: { kind: 'suites' } })).toThrow();
  });
});

describe('probe pipeline on the toy lens', () => {
  let toy: ReturnType<typeof toyLens>;
  beforeAll(async () => {
    await useCpu();
    toy = toyLens({ layers: 3, d: 16, dSae: 24 });
  });
  afterAll(() => toy?.dispose());

  it('labels adversarial prompts by behaviour (greedy generation + judge), invalid dropped', async () => {
    const items = [item('a0', 'xx REFUSE'), item('a1', 'yy go'), item('a2', 'zz ??'), item('a3', 'ww REFUSE')];
    const { labels, dropped } = await labelByBehaviour(toy.lens, items, markerJudge, { maxNewTokens: 3, batchSize: 3 }, quietCtx());
    expect(dropped).toBe(1);
    expect(labels.map((l) => [l.id, l.y])).toEqual([['a0', 1], ['a1', 0], ['a3', 1]]);
    expect(labels.every((l) => typeof l.response === 'string')).toBe(true);
  });

  it('dense per layer (chosen on val only), refusal/random feature probes; the OOD set never changes the choice', async () => {
    const mk = (p: string, n: number, y: 0 | 1, group: number, off = 0) =>
      Array.from({ length: n }, (_, k) => ({ id: `${p}${k + off}`, instruction: `${p === 'h' || p === 'v' ? 'kill bomb' : 'bake cake'} ${String.fromCharCode(97 + ((k * 7 + off) % 26))}${k}`, y, group }));
    const splits: ProbeSplits = {
      train: [...mk('h', 24, 1, 1), ...mk('s', 24, 0, 0)],
      val: [...mk('h', 10, 1, 1, 100), ...mk('s', 10, 0, 0, 100)],
      test: [...mk('v', 12, 1, 1, 200), ...mk('a', 12, 0, 0, 200)],
    };
    const params = ProbeParamsSchema.parse({ seed: 5, resamples: 200, l2Grid: [1e-2, 1], actBatchSize: 7 });
    const refusal = [{ layer: 1, index: 3 }, { layer: 2, index: 10 }, { layer: 2, index: 11 }];
    const random = await randomControlFor(toy.lens, refusal, 9);
    expect(random.map((f) => f.layer)).toEqual([1, 2, 2]);
    const sets = [
      { name: 'refusal-features', label: 'given', set: refusal },
      { name: 'random-features', label: 'random', set: random },
    ];
    const manifest = { runId: 'toy', createdAt: '2026-01-01T00:00:00Z', inputs: [] };
    const { result, info } = await runProbePipeline(toy.lens, splits, sets, params, manifest, quietCtx());
    expect(result.probes.map((p) => p.name)).toEqual(['dense', 'refusal-features', 'random-features']);
    const [dense, feat, rnd] = result.probes;
    expect(dense!.per_layer.map((l) => l.layer)).toEqual([0, 1, 2]);
    expect(dense!.layer).not.toBeNull();
    expect(dense!.per_layer.every((l) => l.ood_acc !== null && l.ood_acc_ci)).toBe(true);
    for (const p of [dense!, feat!, rnd!]) {
      expect(p.ood_acc).not.toBeNull();
      expect(p.ood_acc_ci[0]!).toBeLessThanOrEqual(p.ood_acc!);
      expect(p.ood_acc_ci[1]!).toBeGreaterThanOrEqual(p.ood_acc!);
      expect(Object.keys(p.per_group).sort()).toEqual(['0', '1']);
    }
    expect(feat!.layer).toBeNull();
    expect(feat!.features).toContain('L1/3');
    expect(info.counts).toEqual({ train: 48, val: 20, test: 24, testByGroup: { '0': 12, '1': 12 } });
    expect(result.manifest.groupNames!['0']).toMatch(/jailbroke/);
    expect(result.manifest.params).toMatchObject({ seed: 5, mask: 'default', position: 'last' });
    // W5: the same train/val with a different OOD set chooses the same layer and λ.
    const other = { ...splits, test: [...mk('v', 6, 1, 1, 300), ...mk('a', 9, 0, 0, 300)] };
    const again = await runProbePipeline(toy.lens, other, sets, params, manifest, quietCtx());
    expect(again.result.probes.map((p) => [p.layer, p.l2, p.val_acc])).toEqual(result.probes.map((p) => [p.layer, p.l2, p.val_acc]));
    const line = JSON.parse(probeCliSummary(result));
    expect(line.probes).toHaveLength(3);
  });

  it('refuses a split with one class', async () => {
    const rows = (y: 0 | 1) => [{ id: 'x', instruction: 'abc', y, group: 1 }];
    const params = ProbeParamsSchema.parse({});
    await expect(
      runProbePipeline(toy.lens, { train: [...rows(1), ...rows(0)], val: rows(1), test: [...rows(1), ...rows(0)] }, [], params, { runId: 'x', createdAt: 'x', inputs: [] }, quietCtx()),
    ).rejects.toThrow(/val set needs both classes/);
  });
});
