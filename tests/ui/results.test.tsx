// @vitest-environment jsdom
/**
 * Results view and feature dashboards over stored files that parse with their schemas (common/results/*):
 * every fixture is built through the schema; a file that does not parse is reported, not drawn.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { ExperimentTableSchema, type ExperimentRow } from '../../common/results/experiments';
import { DashboardFeatureFileSchema, DashboardIndexSchema } from '../../common/results/dashboard';
import { ResultsView, sweepSeries } from '../../renderer/src/views/results/ResultsView';
import { DashboardCards } from '../../renderer/src/views/features/DashboardCards';
import { lastExport } from '../../renderer/src/export/save';
import { resetSelection } from '../../renderer/src/components/nav';
import { fakeProject } from './fixtures/fakeApi';

afterEach(cleanup);
beforeEach(() => resetSelection());

function row(o: Partial<ExperimentRow>): ExperimentRow {
  return { suite: 'harmful-test', role: 'harmful', method: 'base', kStar: null, clampValue: null, setKind: null, edit: null, judge: 'substring', metric: 'refusal', group: null, n: 80, k: 80, rate: 1, ci: [0.95, 1], ce: null, ceCi: null, ...o };
}

function table(shift: number) {
  const rows: ExperimentRow[] = [row({})];
  for (const c of [-1, -2, -3]) for (const m of ['cossim_ap', 'actdiff']) {
    const rate = Math.max(0, 0.9 + 0.3 * c - (m === 'actdiff' ? -0.2 : 0) - shift);
    rows.push(row({ method: m, kStar: 5, clampValue: c, setKind: 'local', edit: 'multiply', rate, k: Math.round(rate * 80), ci: [Math.max(0, rate - 0.1), Math.min(1, rate + 0.1)] }));
  }
  for (const k of [2, 10]) rows.push(row({ method: 'cossim_ap', kStar: k, clampValue: -3, setKind: 'local', edit: 'multiply', rate: k === 2 ? 0.6 : 0.05, k: 1, ci: [0, 1] }));
  rows.push(row({ role: 'harmless', suite: 'harmless-test', method: 'cossim_ap', kStar: 5, clampValue: -3, setKind: 'global', edit: 'multiply', rate: 0.01, ce: 0.17, ceCi: [0.15, 0.19] }));
  rows.push(row({ role: 'harmless', suite: 'harmless-test', method: 'cossim_ap', kStar: 5, clampValue: 4, setKind: 'global', edit: 'set', rate: 0.7 }));
  return ExperimentTableSchema.parse({
    kind: 'refusal-workbench/experiment-table', schemaVersion: 1, layer: 1, kStar: 5, clampValue: -3, setKind: 'local', rows,
    mcnemar: [{ suite: 'harmful-test', role: 'harmful', judge: 'substring', group: null, kStar: 5, clampValue: -3, setKind: 'local', a: 'base', b: 'cossim_ap', n: 80, b10: 80, b01: 0, p: 1.6e-24 }],
    agreement: [], suffix: [], warnings: [], generation: { conditions: 10, reused: 2 }, seconds: 5,
  });
}

function manifest(id: string, step: string, outputs: string[], startedAt: string) {
  return JSON.stringify({ kind: 'refusal-workbench/run', schemaVersion: 1, id, step, params: {}, status: 'succeeded', inputs: [], outputs, versions: {}, startedAt });
}

function seed(files: Map<string, string>) {
  files.set('runs/exp-a/manifest.json', manifest('exp-a', 'refusal.discover', ['results.json', 'experiments.json'], '2026-12-03T10:00:00Z'));
  files.set('runs/exp-a/experiments.json', JSON.stringify(table(0)));
  files.set('runs/exp-b/manifest.json', manifest('exp-b', 'refusal.discover', ['experiments.json'], '2026-12-03T11:00:00Z'));
  files.set('runs/exp-b/experiments.json', JSON.stringify(table(0.1)));
  files.set('runs/exp-bad/manifest.json', manifest('exp-bad', 'refusal.discover', ['experiments.json'], '2026-12-03T09:00:00Z'));
  files.set('runs/exp-bad/experiments.json', JSON.stringify({ kind: 'refusal-workbench/experiment-table', rows: [{ method: 'x' }] }));
}

describe('Results view', () => {
  it('lists runs with headline CIs, compares two (bars + table + McNemar), draws both sweeps and exports CSV', async () => {
    const p = fakeProject();
    seed(p.files);
    render(<ResultsView api={p.api} />);
    const runs = await screen.findByTestId('results-runs');
    expect(runs.querySelectorAll('tbody tr')).toHaveLength(2); // the invalid table is not drawn…
    expect(screen.getByRole('alert').textContent).toMatch(/exp-bad\/experiments\.json/); // …but reported
    expect(runs.textContent).toContain('base 1 [0.95, 1]');
    expect(screen.getByTestId('results-compare-empty').textContent).toMatch(/Select two or more runs/);
    fireEvent.click(screen.getByTestId('results-pick-exp-b'));
    fireEvent.click(screen.getByTestId('results-pick-exp-a'));
    const cmp = await screen.findByTestId('results-compare-table');
    expect(cmp.querySelectorAll('tbody tr')).toHaveLength(6); // base, cossim_ap, actdiff × 2 runs
    expect(screen.getByTestId('results-compare').querySelectorAll('.recharts-bar-rectangle').length).toBeGreaterThan(0);
    expect(screen.getByTestId('results-mcnemar').textContent).toContain('base vs cossim_ap');
    expect(screen.getByTestId('results-sweep-clamp').querySelector('svg.recharts-surface')).not.toBeNull();
    expect(screen.getByTestId('results-sweep-k').querySelector('svg.recharts-surface')).not.toBeNull();
    expect(screen.getByTestId('results-side').textContent).toContain('0.17 [0.15, 0.19]');
    expect(screen.getByTestId('results-induced').textContent).toContain('0.7');
    expect(screen.getByTestId('results-suffix-empty').textContent).toMatch(/suffixAnalysis/);
    await act(async () => {
      fireEvent.click(screen.getByTestId('results-sweep-clamp-csv'));
    });
    await screen.findByTestId('results-sweep-clamp-saved');
    expect(lastExport.name).toBe('sweep-clamp.csv');
    const csv = String(lastExport.data);
    expect(csv.split('\n')[0]).toMatch(/^# manifest: .*exp-b/); // the first picked run is the focus
    expect(csv.split('\n').filter((l) => l.startsWith('exp-b,'))).toHaveLength(6);
  });

  it('sweep series: one line per method over the clamp values at the run K*', () => {
    const s = sweepSeries({ manifest: JSON.parse(manifest('r', 'refusal.discover', [], 'x')), table: table(0) }, 'clampValue');
    expect(s.methods).toEqual(['cossim_ap', 'actdiff']);
    expect(s.data.map((d) => d.x)).toEqual([-3, -2, -1]);
  });

  it('says which step produces experiment tables when there are none', async () => {
    const p = fakeProject({ empty: true });
    render(<ResultsView api={p.api} />);
    expect((await screen.findByTestId('results-empty')).textContent).toMatch(/sweep/);
  });
});

describe('Feature dashboard cards', () => {
  const ex = (seq: number, max: number) => ({ seq, source: 'demo-harmful', tokens: ['How', ' do', ' I', ' make', ' a', ' bomb'], acts: [0, 0, 0, 0, max / 2, max], responseStart: 4, max, maxIndex: 5 });
  it('renders density, logits, neighbours, co-activation, top and quantile examples from schema-valid files', async () => {
    const p = fakeProject();
    p.files.set('runs/dash-1/manifest.json', manifest('dash-1', 'features.dashboard', [], '2026-12-03T12:00:00Z'));
    p.files.set(
      'runs/dash-1/dashboard/index.json',
      JSON.stringify(DashboardIndexSchema.parse({ kind: 'refusal-workbench/feature-dashboard-index', schemaVersion: 1, source: 'demo', discoveryRun: null, params: {}, corpus: { sources: [{ name: 'demo-harmful', sequences: 3 }], sequences: 3, tokens: 18, responseTokens: 8 }, features: [{ id: 'L1/5', layer: 1, index: 5, file: 'dashboard/L1-5.json', density: 0.25, maxActivation: 3, topTokens: [' sorry'], inRefusalSet: true }] })),
    );
    p.files.set(
      'runs/dash-1/dashboard/L1-5.json',
      JSON.stringify(
        DashboardFeatureFileSchema.parse({
          kind: 'refusal-workbench/feature-dashboard', schemaVersion: 1,
          feature: {
            id: 'L1/5', layer: 1, index: 5,
            density: { tokens: 18, active: 6, fraction: 1 / 3, log10: Math.log10(1 / 3), prompt: { tokens: 12, active: 4 }, response: { tokens: 6, active: 2 } },
            histogram: { edges: [0, 1, 2, 3], counts: [2, 2, 2], zeroCount: 12, tokens: 18, fractionZero: 2 / 3, sampled: false },
            maxActivation: 3, meanNonzero: 1.5,
            top: [ex(0, 3)],
            quantiles: [{ lo: 1.5, hi: 3, share: 0.5, sequences: 2, examples: [ex(1, 2)] }, { lo: 0, hi: 1.5, share: 0.5, sequences: 1, examples: [ex(2, 1)] }],
            logits: { foldedNorm: true, promoted: [{ token: ' sorry', id: 7, value: 1.2 }], suppressed: [{ token: ' Sure', id: 9, value: -0.8 }] },
            neighbours: [{ id: 'L1/7', index: 7, cosine: 0.41 }],
            coactivation: [{ id: 'L0/3', both: 4, jaccard: 0.5, pOtherGivenThis: 0.67, pThisGivenOther: 0.8 }],
          },
        }),
      ),
    );
    render(<DashboardCards api={p.api} featureKey="L1/5" />);
    await screen.findByTestId('feature-dashboard');
    expect(screen.getByTestId('feature-density-fraction').textContent).toBe('33.3%');
    expect(screen.getByTestId('feature-logits').textContent).toContain('" sorry"');
    expect(screen.getByTestId('feature-neighbours').textContent).toContain('L1/7');
    expect(screen.getByTestId('feature-coactivation').textContent).toContain('L0/3');
    expect(screen.getByTestId('feature-top-0').querySelectorAll('.wb-token')).toHaveLength(6);
    expect(screen.getByTestId('feature-quantiles').querySelectorAll('.wb-quantile')).toHaveLength(2);
    expect(screen.getByTestId('feature-density').querySelector('svg')).not.toBeNull();
  });

  it('without a scan: names the step and starts it for this feature', async () => {
    const p = fakeProject();
    render(<DashboardCards api={p.api} featureKey="L0/3" />);
    expect((await screen.findByTestId('feature-dashboard-empty')).textContent).toMatch(/features\.dashboard/);
    await act(async () => {
      fireEvent.click(screen.getByTestId('feature-dashboard-scan'));
    });
    await waitFor(() => expect(p.jobs.some((j) => j.step === 'features.dashboard')).toBe(true));
    expect(p.jobs.find((j) => j.step === 'features.dashboard')!.params).toEqual({ features: ['L0/3'] });
  });
});
