// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { RunsView } from '../../renderer/src/views/runs/RunsView';
import { DISCOVERY_PARAMS, defaultParams, validateParams } from '../../renderer/src/views/runs/pipeline';
import { fakeProject } from './fixtures/fakeApi';
import { RESULTS } from './fixtures/data';
import { DISCOVERY_SUITE } from '../../renderer/src/views/viewmodels';

afterEach(cleanup);

describe('Runs view', () => {
  it('shows every pipeline parameter with its paper default and a one-line hint', async () => {
    const p = fakeProject();
    render(<RunsView api={p.api} />);
    const form = await screen.findByTestId('run-form');
    for (const s of DISCOVERY_PARAMS) {
      const input = within(form).getByTestId(`param-${s.key}`);
      expect(input.closest('.wb-param')!.querySelector('small')!.textContent!.length).toBeGreaterThan(10);
    }
    expect((within(form).getByTestId('param-steps') as HTMLInputElement).value).toBe('10');
    expect((within(form).getByTestId('param-kStar') as HTMLInputElement).value).toBe('20');
    expect((within(form).getByTestId('param-clampValue') as HTMLInputElement).value).toBe('auto');
    expect(form.textContent).toContain('IG steps — more steps, smoother attribution, linear cost.');
  });

  it('validates parameters', () => {
    expect(validateParams(defaultParams())).toEqual({});
    expect(Object.keys(validateParams({ ...defaultParams(), steps: 0, layer: 'x', induceValues: '1,,2', methods: 'base,nope' })).sort()).toEqual(['induceValues', 'layer', 'methods', 'steps']);
  });

  it('history with manifests and the results table method × suite with n', async () => {
    const p = fakeProject();
    render(<RunsView api={p.api} />);
    const hist = await screen.findByTestId('run-history-table');
    expect(hist.querySelectorAll('tbody tr')).toHaveLength(4);
    fireEvent.click(screen.getByTestId('run-row-disc-0001'));
    const table = await screen.findByTestId('run-rates-table');
    expect(table.querySelectorAll('tbody tr')).toHaveLength(Object.keys(RESULTS.refusal_rate).length);
    expect(table.textContent).toContain(DISCOVERY_SUITE);
    expect(table.textContent).toContain(`(n=${RESULTS.counts.harmful})`);
    expect(screen.getByTestId('run-rates-chart').querySelector('svg')).not.toBeNull();
    expect(screen.getByTestId('run-manifest').textContent).toContain('"seed": 42');
    await act(async () => {
      fireEvent.click(screen.getByTestId('export-results-csv'));
    });
    await waitFor(() => expect(p.files.get('exports/disc-0001-rates.csv')).toMatch(/^# manifest: .*\nsuite,method,refusal_rate,jailbreak_rate,n\n/));
    await act(async () => {
      fireEvent.click(screen.getByTestId('export-run-report-md'));
    });
    await waitFor(() => expect(p.files.get('exports/disc-0001-report.md')).toContain('## Manifest'));
  });

  it('starts discovery, shows progress per stage, and cancels', async () => {
    const p = fakeProject();
    render(<RunsView api={p.api} />);
    await screen.findByTestId('run-history-table');
    await waitFor(() => expect((screen.getByTestId('param-maxNewTokens') as HTMLInputElement).value).toBe('12')); // from the demo pipeline
    fireEvent.change(screen.getByTestId('param-steps'), { target: { value: '20' } });
    fireEvent.change(screen.getByTestId('param-layer'), { target: { value: '3' } });
    await act(async () => {
      fireEvent.click(screen.getByTestId('run-start'));
    });
    expect(p.jobs).toHaveLength(1);
    expect(p.jobs[0].step).toBe('refusal.discover');
    expect(p.jobs[0].params).toEqual({ pipeline: 'ui-pipeline.json' });
    const pl = JSON.parse(p.files.get('ui-pipeline.json')!);
    expect(pl.kind).toBe('refusal-workbench/pipeline');
    expect(pl.model).toBe('demo/model');
    expect(pl.params).toMatchObject({ steps: 20, kStar: 20, seed: 42, layer: 3, clampValue: null, maxNewTokens: 12, graph: { enabled: true, priorLayers: 2 } });
    expect(pl.params.methods).toEqual(['base', 'cossim_ap', 'cossim', 'actdiff', 'ap', 'as', 'random']);
    const job = p.jobs[0];
    act(() => p.emit({ type: 'job', job: { ...job, progress: { stage: 'attribution', fraction: 0.4, etaMs: 30_000 } } }));
    const prog = screen.getByTestId('run-progress');
    expect(prog.querySelector('[role=progressbar]')!.getAttribute('aria-valuenow')).toBe('40');
    expect(prog.querySelector('.wb-stage.running')!.textContent).toBe('attribution');
    expect(prog.querySelectorAll('.wb-stage.succeeded')).toHaveLength(4);
    expect(prog.textContent).toContain('30 s left');
    await act(async () => {
      fireEvent.click(screen.getByTestId('run-cancel'));
    });
    await waitFor(() => expect(screen.getByTestId('run-progress').dataset.status).toBe('cancelled'));
    expect(p.jobs[0].cancelRequested).toBe(true);
  });

  it('shows the categories run below (issue 9): matrix and interventions', async () => {
    const p = fakeProject();
    render(<RunsView api={p.api} />);
    expect(await screen.findByTestId('categories-matrix')).toBeTruthy();
  });

  it('empty history says what to do', async () => {
    const p = fakeProject({ empty: true });
    render(<RunsView api={p.api} />);
    // the card renders before the (empty) list has loaded: wait for the state, generously (a loaded machine)
    await waitFor(() => expect(screen.getByTestId('run-history').textContent).toMatch(/start discovery/i), { timeout: 60_000 });
  });
});
