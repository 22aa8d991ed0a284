// @vitest-environment jsdom
/**
 * A result file the views cannot read is an error on screen that names the file and says why (unknown
 * version, another kind, a field that does not match) — never a guessed layout or a blank chart; an older
 * version that common/results can upgrade is shown.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import { readFileSync } from 'node:fs';
import { GraphView } from '../../renderer/src/views/graph/GraphView';
import { ProbesView } from '../../renderer/src/views/probes/ProbesView';
import { CategoriesView } from '../../renderer/src/views/categories/CategoriesView';
import { RunsView } from '../../renderer/src/views/runs/RunsView';
import { resetSelection } from '../../renderer/src/components/nav';
import { repoRoot } from '../helpers/fixtures';
import { fakeProject } from './fixtures/fakeApi';
import { CATEGORIES, GRAPH, PROBES } from './fixtures/data';

afterEach(cleanup);
beforeEach(() => resetSelection());

const alert = async () => (await screen.findByRole('alert')).textContent ?? '';

describe('unreadable result files: a clear error naming the file', () => {
  it('graph.json of a newer schema version', async () => {
    const p = fakeProject();
    p.files.set('runs/disc-0001/graph.json', JSON.stringify({ ...GRAPH, schemaVersion: 9 }));
    render(<GraphView api={p.api} />);
    expect(await alert()).toBe('runs/disc-0001/graph.json: feature graph schemaVersion 9 is newer than this build reads (up to 2): update the workbench');
  });

  it('probe-report.json of another kind', async () => {
    const p = fakeProject();
    p.files.set('runs/probe-0001/probe-report.json', JSON.stringify({ ...PROBES, kind: 'something-else' }));
    render(<ProbesView api={p.api} />);
    expect(await alert()).toMatch(/^runs\/probe-0001\/probe-report\.json: not a probe report file \(kind "something-else"/);
  });

  it('categories results.json with a field that does not match: names the field', async () => {
    const p = fakeProject();
    p.files.set('runs/cat-0001/results.json', JSON.stringify({ ...CATEGORIES, rows: [{ ...CATEGORIES.rows[0], n: 'fifty' }] }));
    render(<CategoriesView api={p.api} />);
    expect(await alert()).toMatch(/^runs\/cat-0001\/results\.json: categories results \(schemaVersion 1\) does not match its schema: rows\.0\.n: /);
  });

  it('a file that is not JSON', async () => {
    const p = fakeProject();
    p.files.set('runs/disc-0001/graph.json', '{"kind": "refusal-workbench/feature-graph", ');
    render(<GraphView api={p.api} />);
    expect(await alert()).toMatch(/^runs\/disc-0001\/graph\.json: not valid JSON/);
  });
});

describe('older versions upgrade on the way in', () => {
  it('a version-1 results.json (written before kStar, ce, warnings) shows its rates', async () => {
    const p = fakeProject();
    p.files.set('runs/disc-0001/results.json', readFileSync(`${repoRoot}/tests/fixtures/results/discovery-results.v1.json`, 'utf8'));
    render(<RunsView api={p.api} />);
    await screen.findByTestId('run-history-table');
    const table = await screen.findByTestId('run-rates-table');
    await waitFor(() => expect(table.querySelectorAll('tbody tr')).toHaveLength(7));
    expect(table.textContent).toContain('(n=80)');
  });
  it('a version-1 graph.json (kind "feature-graph") draws its nodes', async () => {
    const p = fakeProject();
    p.files.set('runs/disc-0001/graph.json', readFileSync(`${repoRoot}/tests/fixtures/results/feature-graph.v1.json`, 'utf8'));
    render(<GraphView api={p.api} />);
    await waitFor(() => expect(screen.getByTestId('graph-node-count').dataset.nodes).toBe('3'));
  });
});
