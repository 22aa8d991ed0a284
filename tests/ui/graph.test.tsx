// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { GraphView } from '../../renderer/src/views/graph/GraphView';
import { NAVIGATE_EVENT, resetSelection, useSelection } from '../../renderer/src/components/nav';
import { fakeProject } from './fixtures/fakeApi';
import { CATEGORIES, FIRST, GRAPH, HARM, key } from './fixtures/data';

afterEach(cleanup);
beforeEach(() => resetSelection());

const count = () => screen.getByTestId('graph-node-count');

describe('Graph view', () => {
  it('renders the stored graph: nodes, edges, labels from features.json', async () => {
    const p = fakeProject();
    p.notes.set(FIRST, { label: 'weapons request', notes: '', tags: ['harm'] });
    render(<GraphView api={p.api} />);
    await waitFor(() => expect(count().dataset.nodes).toBe(String(GRAPH.nodes.length)));
    expect(count().dataset.edges).toBe(String(GRAPH.edges.length));
    expect(await screen.findByText('weapons request')).toBeTruthy();
    expect(screen.getByTestId('graph-run').textContent).toContain('disc-0001');
  });

  it('filters by role, layer range, threshold and search', async () => {
    const p = fakeProject();
    render(<GraphView api={p.api} />);
    await waitFor(() => expect(count().dataset.nodes).toBe(String(GRAPH.nodes.length)));
    fireEvent.click(screen.getByTestId('graph-role-harm'));
    expect(count().dataset.nodes).toBe(String(GRAPH.nodes.filter((n) => !HARM.has(n.id)).length));
    fireEvent.click(screen.getByTestId('graph-role-harm'));
    fireEvent.change(screen.getByTestId('graph-layer-max'), { target: { value: '4' } });
    expect(count().dataset.nodes).toBe(String(GRAPH.nodes.filter((n) => n.layer <= 4).length));
    fireEvent.change(screen.getByTestId('graph-layer-max'), { target: { value: '8' } });
    fireEvent.change(screen.getByTestId('graph-threshold'), { target: { value: '1' } });
    expect(Number(count().dataset.edges)).toBeLessThanOrEqual(1);
    fireEvent.change(screen.getByTestId('graph-threshold'), { target: { value: '0' } });
    fireEvent.change(screen.getByTestId('graph-search'), { target: { value: FIRST } });
    expect(count().dataset.nodes).toBe('1');
  });

  it('hover panel and click opens the feature page', async () => {
    const p = fakeProject();
    const seen: string[] = [];
    const onNav = (e: Event) => seen.push((e as CustomEvent<{ view: string }>).detail.view);
    window.addEventListener(NAVIGATE_EVENT, onNav);
    let sel: ReturnType<typeof useSelection> | null = null;
    function Probe() {
      sel = useSelection();
      return null;
    }
    render(
      <>
        <GraphView api={p.api} />
        <Probe />
      </>,
    );
    const btn = await screen.findByTestId(`graph-node-${FIRST}`);
    fireEvent.mouseEnter(btn);
    expect(screen.getByTestId('graph-node-panel').textContent).toContain(FIRST);
    fireEvent.keyDown(window, { key: 'Escape' });
    expect(screen.queryByTestId('graph-node-panel')).toBeNull();
    fireEvent.click(screen.getByTestId(`graph-node-${FIRST}`));
    expect(seen).toContain('features');
    expect(sel!.feature).toBe(FIRST);
    window.removeEventListener(NAVIGATE_EVENT, onNav);
  });

  it('highlights the common set from the categories run', async () => {
    const p = fakeProject();
    render(<GraphView api={p.api} />);
    const toggle = (await screen.findByTestId('graph-common-toggle')) as HTMLInputElement;
    await waitFor(() => expect(toggle.disabled).toBe(false));
    expect(toggle.parentElement!.textContent).toContain(`(${CATEGORIES.sets.common.length})`);
    fireEvent.click(toggle);
    fireEvent.click(screen.getByTestId('export-svg'));
    await waitFor(() => expect([...p.files.keys()].some((k) => k.endsWith('graph.svg'))).toBe(true));
    const svg = p.files.get('exports/disc-0001-graph.svg')!;
    const commonKey = key(GRAPH.nodes[13]);
    expect(svg).toMatch(new RegExp(`data-node-id="${commonKey}"[^>]*stroke="#f5a623"`));
  });

  it('exports the SVG of what is on screen: one element per visible node, manifest inside', async () => {
    const p = fakeProject();
    render(<GraphView api={p.api} />);
    await waitFor(() => expect(count().dataset.nodes).toBe(String(GRAPH.nodes.length)));
    fireEvent.click(screen.getByTestId('graph-role-refusal'));
    const visible = Number(count().dataset.nodes);
    await act(async () => {
      fireEvent.click(screen.getByTestId('export-svg'));
    });
    await waitFor(() => expect(screen.getByTestId('graph-exported').textContent).toContain('exports/disc-0001-graph.svg'));
    const doc = new DOMParser().parseFromString(p.files.get('exports/disc-0001-graph.svg')!, 'image/svg+xml');
    expect(doc.getElementsByTagName('parsererror')).toHaveLength(0);
    expect(doc.querySelectorAll('[data-node-id]')).toHaveLength(visible);
    expect(JSON.parse(doc.getElementById('run-manifest')!.textContent!).id).toBe('disc-0001');
  });

  it('empty state says what to do next', async () => {
    const p = fakeProject({ empty: true });
    render(<GraphView api={p.api} />);
    expect((await screen.findByTestId('graph-empty')).textContent).toMatch(/run discovery/i);
  });
});
