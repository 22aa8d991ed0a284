// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { FeaturesView } from '../../renderer/src/views/features/FeaturesView';
import { checkExplanationsMatch, expectedSources, mergeExplanation, parseNeuronpediaExport } from '../../renderer/src/views/features/neuronpedia';
import { resetSelection, selectFeature } from '../../renderer/src/components/nav';
import { fakeProject } from './fixtures/fakeApi';
import { FIRST, GRAPH, LAST } from './fixtures/data';

afterEach(cleanup);
beforeEach(() => resetSelection());

describe('Feature page', () => {
  it('shows cosine, attribution, histogram, contexts with token heatmaps, logit lens and the Neuronpedia link', async () => {
    const p = fakeProject();
    selectFeature(FIRST);
    render(<FeaturesView api={p.api} />);
    expect((await screen.findByTestId('feature-id')).textContent).toBe(FIRST);
    await screen.findByTestId('feature-cosine');
    const link = screen.getByTestId('feature-neuronpedia') as HTMLAnchorElement;
    expect(link.href).toBe(`https://www.neuronpedia.org/gemma-2-2b/${GRAPH.nodes[0].layer}-gemmascope-res-65k/${GRAPH.nodes[0].index}`);
    const heat = screen.getByTestId('feature-context-0');
    expect(heat.querySelectorAll('.wb-token')).toHaveLength(8);
    fireEvent.mouseEnter(heat.querySelectorAll('.wb-token')[6]);
    expect(heat.textContent).toContain('" bomb" = 3');
    expect(screen.getByTestId('feature-logit-lens').textContent).toContain('" sorry"');
    expect(screen.getByTestId('feature-histogram').querySelector('svg')).not.toBeNull();
  });

  it('label, notes and tags are saved through the API and survive a reload', async () => {
    const p = fakeProject();
    selectFeature(FIRST);
    const { unmount } = render(<FeaturesView api={p.api} />);
    const input = (await screen.findByTestId('feature-label-input')) as HTMLInputElement;
    fireEvent.change(input, { target: { value: 'refuses weapons' } });
    fireEvent.change(screen.getByTestId('feature-tags-input'), { target: { value: 'harm, weapons' } });
    fireEvent.change(screen.getByTestId('feature-notes-input'), { target: { value: 'fires on "bomb"' } });
    await act(async () => {
      fireEvent.click(screen.getByTestId('feature-save'));
    });
    await screen.findByTestId('feature-saved');
    expect(p.notes.get(FIRST)).toEqual({ label: 'refuses weapons', notes: 'fires on "bomb"', tags: ['harm', 'weapons'] });
    unmount();
    render(<FeaturesView api={p.api} />);
    await waitFor(() => expect((screen.getByTestId('feature-label-input') as HTMLInputElement).value).toBe('refuses weapons'));
  });

  it('searches labels, notes and tags', async () => {
    const p = fakeProject();
    p.notes.set(LAST, { label: 'apology', notes: '', tags: ['refusal'] });
    render(<FeaturesView api={p.api} />);
    await screen.findByTestId(`feature-item-${FIRST}`);
    fireEvent.change(screen.getByTestId('feature-search'), { target: { value: 'apolo' } });
    expect(screen.getByTestId('feature-list').querySelectorAll('li')).toHaveLength(1);
    fireEvent.change(screen.getByTestId('feature-search'), { target: { value: 'refusal' } });
    expect(screen.getByTestId(`feature-item-${LAST}`)).toBeTruthy();
  });

  it('imports a Neuronpedia explanations export without overwriting user labels', async () => {
    const p = fakeProject();
    const [a, b] = GRAPH.nodes;
    p.notes.set(`L${b.layer}/${b.index}`, { label: 'mine', notes: '', tags: [] });
    render(<FeaturesView api={p.api} />);
    await screen.findByText('mine');
    const json = JSON.stringify([
      { modelId: 'gemma-2-2b', layer: `${a.layer}-gemmascope-res-65k`, index: String(a.index), description: 'requests for weapons' },
      { modelId: 'gemma-2-2b', layer: `${b.layer}-gemmascope-res-65k`, index: String(b.index), description: 'apologies' },
    ]);
    const file = new File([json], 'explanations.json', { type: 'application/json' });
    await act(async () => {
      fireEvent.change(screen.getByTestId('feature-import-neuronpedia'), { target: { files: [file] } });
    });
    await waitFor(() => expect(screen.getByTestId('feature-import-result').textContent).toContain('Imported 2 of 2'));
    expect(p.notes.get(FIRST)!.label).toBe('requests for weapons');
    expect(p.notes.get(`L${b.layer}/${b.index}`)).toMatchObject({ label: 'mine', notes: 'Neuronpedia: apologies' });
  });

  it('parses JSONL exports and names the bad entry', () => {
    expect(parseNeuronpediaExport('{"layer":"3-res","index":7,"description":"x"}\n{"layer":4,"index":"2","explanation":"y"}')).toEqual([
      { key: 'L3/7', description: 'x', source: '3-res' },
      { key: 'L4/2', description: 'y' },
    ]);
    expect(() => parseNeuronpediaExport('[{"layer":"3","index":1}]')).toThrow(/entry 1/);
    expect(mergeExplanation(undefined, 'd')).toEqual({ label: 'd', notes: '', tags: ['neuronpedia'] });
  });

  it('refuses explanations of another model, source set or width (a 16k export does not label 65k features)', () => {
    const want = expectedSources(['gemma-2-2b/12-gemmascope-res-65k/5', 'gemma-2-2b/5-gemmascope-res-16k__l0-143/9', undefined]);
    expect([...want]).toEqual([
      [12, 'gemma-2-2b/12-gemmascope-res-65k'],
      [5, 'gemma-2-2b/5-gemmascope-res-16k__l0-143'],
    ]);
    const ok = parseNeuronpediaExport('[{"modelId":"gemma-2-2b","layer":"12-gemmascope-res-65k","index":"3","description":"a"},{"layer":"7","index":1,"description":"other layer, unknown SAE"}]');
    expect(() => checkExplanationsMatch(ok, want)).not.toThrow();
    const width = parseNeuronpediaExport('[{"modelId":"gemma-2-2b","layer":"12-gemmascope-res-16k","index":3,"description":"a"}]');
    expect(() => checkExplanationsMatch(width, want)).toThrow(/entry 1 \(L12\/3\): source "12-gemmascope-res-16k" \(gemmascope-res-16k, width 16k\) is not this project's SAE for layer 12: gemma-2-2b gemmascope-res-65k \(width 65k\)/);
    const l0 = parseNeuronpediaExport('[{"layer":"5-gemmascope-res-16k","index":3,"description":"a"}]');
    expect(() => checkExplanationsMatch(l0, want)).toThrow(/__l0-143/);
    const model = parseNeuronpediaExport('[{"modelId":"gemma-2-9b","layer":"12-gemmascope-res-65k","index":3,"description":"a"}]');
    expect(() => checkExplanationsMatch(model, want)).toThrow(/model "gemma-2-9b"/);
    const bare = parseNeuronpediaExport('[{"layer":12,"index":3,"description":"a"}]');
    expect(() => checkExplanationsMatch(bare, want)).toThrow(/only a layer number/);
  });

  it('empty state when nothing is selected', async () => {
    const p = fakeProject({ empty: true });
    render(<FeaturesView api={p.api} />);
    expect((await screen.findByTestId('feature-empty')).textContent).toMatch(/graph/);
  });
});
