import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../common/suites/ops.js';
import { loadProbeReportJson, probeCliSummary, probeReportJson, runProbes } from '../../workers/probes/index.js';

function gauss(rnd: () => number) {
  return Math.sqrt(-2 * Math.log(Math.max(rnd(), 1e-300))) * Math.cos(2 * Math.PI * rnd());
}

describe('runProbes', () => {
  it('dense (best layer on val), feature and random probes with OOD intervals; random near chance', () => {
    const rnd = mulberry32(99);
    const lab = (n: number) => Array.from({ length: n }, (_, i) => i % 2);
    const y = { train: lab(120), val: lab(60), ood: lab(80) };
    // Dense: layer l carries signal l·0.7 in-distribution; OOD shifts the signal on half the rows (group 0).
    const dense = (ys: number[], l: number, ood: boolean) =>
      ys.map((v, i) => [gauss(rnd) + (v ? 1 : -1) * l * 0.7 * (ood && i < ys.length / 2 ? -0.3 : 1), gauss(rnd), gauss(rnd)]);
    const feat = (ys: number[]) => ys.map((v) => [gauss(rnd) + (v ? 1.5 : -1.5), gauss(rnd)]);
    const noise = (ys: number[]) => ys.map(() => [gauss(rnd), gauss(rnd)]);
    const groups = y.ood.map((_, i) => (i < 40 ? 0 : 1));
    const run = runProbes(
      [
        { name: 'dense', features: 'resid_post (d=3)', candidates: [0, 1, 2, 3].map((l) => ({ layer: l, train: dense(y.train, l, false), val: dense(y.val, l, false), ood: dense(y.ood, l, true) })) },
        { name: 'refusal-features', features: 'SAE features (2)', candidates: [{ layer: null, train: feat(y.train), val: feat(y.val), ood: feat(y.ood) }] },
        { name: 'random-features', features: 'random features (2)', candidates: [{ layer: null, train: noise(y.train), val: noise(y.val), ood: noise(y.ood) }] },
      ],
      { ...y, oodGroups: groups },
      { seed: 42, resamples: 300, l2Grid: [1e-3, 1e-1, 1], manifest: { runId: 'r1', createdAt: '2026-01-01T00:00:00Z', inputs: [] } },
    );
    const [d, f, r] = run.probes;
    expect(d!.layer).toBe(3);
    expect(d!.per_layer.map((p) => p.layer)).toEqual([0, 1, 2, 3]);
    expect(d!.per_layer.every((p) => p.ood_acc !== null && p.ood_acc_ci !== undefined)).toBe(true);
    expect(d!.per_group['0']!.acc!).toBeLessThan(d!.per_group['1']!.acc!);
    expect(f!.layer).toBeNull();
    expect(f!.ood_acc!).toBeGreaterThan(0.8);
    expect(r!.ood_acc_ci[0]!).toBeLessThan(0.5);
    expect(r!.ood_acc_ci[1]!).toBeGreaterThan(0.5);
    expect(run.manifest.params).toMatchObject({ l2Grid: [1e-3, 1e-1, 1], resamples: 300 });
    expect(loadProbeReportJson(probeReportJson(run))).toEqual(run);
    const line = JSON.parse(probeCliSummary(run));
    expect(Object.keys(line.probes[0])).toEqual(['name', 'features', 'layer', 'val_acc', 'ood_acc', 'ood_acc_ci', 'auroc']);
  });

  it('rejects misaligned activations', () => {
    expect(() =>
      runProbes([{ name: 'x', features: 'x', candidates: [{ layer: null, train: [[1]], val: [[1]], ood: [[1]] }] }], { train: [1, 0], val: [1], ood: [1] }, {
        seed: 1,
        manifest: { runId: 'r', createdAt: 't', inputs: [] },
      }),
    ).toThrow(/do not match/);
  });
});
