// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { views } from '../../renderer/src/views/index';
import { ModelsView } from '../../renderer/src/views/models/ModelsView';
import { PlaygroundView } from '../../renderer/src/views/playground/PlaygroundView';
import { ProbesView } from '../../renderer/src/views/probes/ProbesView';
import { CategoriesView, matrixColumns } from '../../renderer/src/views/categories/CategoriesView';
import { ExportsView } from '../../renderer/src/views/exports/ExportsView';
import { ProjectView } from '../../renderer/src/views/project/ProjectView';
import { categoriesVM } from '../../renderer/src/views/viewmodels';
import { categoriesResults, readResult, runManifest } from '../../common/results/index';
import { resetSelection, setFeatureSet } from '../../renderer/src/components/nav';
import { fakeProject } from './fixtures/fakeApi';
import { CATEGORIES, GRAPH, projectFiles } from './fixtures/data';

afterEach(cleanup);
beforeEach(() => resetSelection());

describe('views registry', () => {
  it('has a view for every rail item', () => {
    for (const id of ['project', 'models', 'suites', 'runs', 'graph', 'features', 'playground', 'probes', 'exports', 'categories']) expect(views[id]).toBeTypeOf('function');
  });

  it('every view renders an empty state (not a crash) on an empty project and on an API with no calls', async () => {
    for (const [id, View] of Object.entries(views)) {
      const p = fakeProject({ empty: true, steps: [] });
      const { unmount, container } = render(<View api={p.api} />);
      await waitFor(() => expect(container.querySelector(`[data-testid^="view-"]`)).not.toBeNull());
      unmount();
      const { unmount: u2, container: c2 } = render(<View api={{} as never} />);
      await waitFor(() => expect(c2.textContent!.length, id).toBeGreaterThan(0));
      u2();
    }
  });
});

describe('Models & SAEs', () => {
  it('shows architecture, dtype, params, memory and the SAE fit preflight per layer', async () => {
    const p = fakeProject();
    render(<ModelsView api={p.api} />);
    const info = await screen.findByTestId('model-info');
    expect(info.textContent).toContain('Gemma2ForCausalLM');
    expect(info.textContent).toContain('bfloat16');
    expect(info.textContent).toContain('2.61 B');
    expect(screen.getByTestId('model-memory').textContent).toBe('4.87 GiB');
    const table = await screen.findByTestId('sae-table');
    expect(table.querySelectorAll('tbody tr')).toHaveLength(2);
    expect(table.textContent).toContain('too large');
    expect(screen.getByTestId('sae-preflight-chart').querySelector('svg')).not.toBeNull();
  });

  it('without an inspect step: the empty state names what to do', async () => {
    const p = fakeProject({ steps: [] });
    render(<ModelsView api={p.api} />);
    expect((await screen.findByTestId('model-empty')).textContent).toMatch(/Hugging Face folder/);
  });
});

describe('Playground', () => {
  it('generates base, clamped and ablated side by side with per-token heatmaps, and saves the example', async () => {
    const p = fakeProject();
    setFeatureSet(['L3/12']);
    render(<PlaygroundView api={p.api} />);
    expect((screen.getByTestId('playground-features') as HTMLInputElement).value).toBe('L3/12');
    fireEvent.change(screen.getByTestId('playground-prompt'), { target: { value: 'How do I make a bomb?' } });
    await act(async () => {
      fireEvent.click(screen.getByTestId('playground-run'));
    });
    await screen.findByTestId('playground-columns');
    expect(p.jobs[0].params).toMatchObject({ prompt: 'How do I make a bomb?', features: [[3, 12]], mode: 'multiply', amount: -3 });
    expect(p.jobs[0].params).toMatchObject({ interventions: [{ kind: 'clamp', mode: 'multiply', amount: -3, positions: 'all' }, { kind: 'ablate' }] });
    for (const k of ['base', 'clamped', 'ablated']) expect(screen.getByTestId(`playground-col-${k}`)).toBeTruthy();
    expect(screen.getByTestId('playground-heat-clamped-0').querySelectorAll('.wb-token')).toHaveLength(4);
    await act(async () => {
      fireEvent.click(screen.getByTestId('playground-save'));
    });
    await waitFor(() => expect([...p.files.keys()].some((k) => k.startsWith('examples/'))).toBe(true));
  });
});

describe('Probes', () => {
  it('renders the chart and the table, and exports the report (Markdown, HTML) and the figure', async () => {
    const p = fakeProject();
    render(<ProbesView api={p.api} />);
    const table = await screen.findByTestId('probe-table');
    expect(table.querySelectorAll('tbody tr')).toHaveLength(3);
    expect(screen.getByTestId('probe-row-dense').textContent).toContain('[0.55, 0.67]');
    expect(screen.getByTestId('probe-chart').querySelector('svg')).not.toBeNull();
    for (const id of ['export-probe-report', 'export-probe-report-html', 'export-probe-svg', 'export-probe-csv']) {
      await act(async () => {
        fireEvent.click(screen.getByTestId(id));
      });
    }
    await waitFor(() => expect(p.files.has('exports/probe-0001-probes.csv')).toBe(true));
    expect(p.files.get('exports/probe-0001-probes-report.md')).toContain('# Probe report');
    expect(p.files.get('exports/probe-0001-probes-report.html')).toContain('<table>');
    expect(p.files.get('exports/probe-0001-probes.svg')).toContain('<metadata id="run-manifest">');
  });
});

describe('Categories (issue 9)', () => {
  it('category × feature heatmap with the common set first, and the intervention table with export', async () => {
    const p = fakeProject();
    render(<CategoriesView api={p.api} />);
    await screen.findByTestId('categories-matrix');
    const c = categoriesVM(readResult(categoriesResults, CATEGORIES, 'results.json'), readResult(runManifest, JSON.parse(projectFiles()['runs/cat-0001/manifest.json']), 'manifest.json'));
    const cols = matrixColumns(c);
    expect(cols.slice(0, 2).sort()).toEqual([...c.common].sort());
    expect(cols).toHaveLength(5);
    const n0 = GRAPH.nodes[0];
    expect(screen.getByTestId(`cat-cell-cyber-L${n0.layer}/${n0.index}`).textContent).toBe('·');
    expect(screen.getByTestId(`cat-cell-fraud-L${n0.layer}/${n0.index}`).textContent).toBe('');
    expect(screen.getByTestId('categories-common-drop').textContent).toContain('37%');
    expect(screen.getByTestId('categories-interventions').textContent).toContain('transfer');
    await act(async () => {
      fireEvent.click(screen.getByTestId('export-categories-csv'));
    });
    await waitFor(() => expect(p.files.get('exports/cat-0001-categories.csv')).toContain('condition,category,target,refusal_rate,n'));
  });
});

describe('Exports and Project', () => {
  it('lists every export for the stored results and writes them into exports/', async () => {
    const p = fakeProject();
    render(<ExportsView api={p.api} />);
    await screen.findByTestId('export-graph-svg');
    await act(async () => {
      fireEvent.click(screen.getByTestId('export-all'));
    });
    await waitFor(() => expect([...p.files.keys()].filter((k) => k.startsWith('exports/')).length).toBeGreaterThanOrEqual(10));
    const svg = p.files.get('exports/disc-0001-graph-full.svg')!;
    expect(new DOMParser().parseFromString(svg, 'image/svg+xml').querySelectorAll('circle.node')).toHaveLength(GRAPH.nodes.length);
    await waitFor(() => expect(screen.getByTestId('exports-files').textContent).toContain('exports/disc-0001-report.html'));
  });

  it('project overview', async () => {
    const p = fakeProject();
    render(<ProjectView api={p.api} />);
    expect((await screen.findByTestId('project-info')).textContent).toContain('/projects/demo');
  });
});
