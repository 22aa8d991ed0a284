// @vitest-environment jsdom
import { readFileSync } from 'node:fs';
import { repoRoot } from '../helpers/fixtures';
/** Deterministic exports: seeded data → golden SVG / Markdown; SVG parses with one element per node. */
import { describe, expect, it } from 'vitest';
import { adaptCategories, adaptGraph, adaptProbeReport, adaptRunResults, type RunManifest } from '../../renderer/src/views/types';
import { toViewManifest } from '../../renderer/src/views/adapter';
import { buildScene, defaultFilters, filterGraph, layeredLayout } from '../../renderer/src/components/graph/graphModel';
import { graphSceneToSvg } from '../../renderer/src/export/svg';
import { categoriesReport, probeFigureSvg, probeReport, reportToHtml, reportToMarkdown, runReport } from '../../renderer/src/export/reports';
import { toCsv, toJsonExport } from '../../renderer/src/export/table';
import { pngAddText, pngReadText } from '../../renderer/src/export/png';
import { fullGraphSvg } from '../../renderer/src/views/exports/ExportsView';
import { CATEGORIES, DISCOVERY_ID, GRAPH, PROBES, RESULTS, projectFiles } from './fixtures/data';

const files = projectFiles();
const manifest: RunManifest = toViewManifest(JSON.parse(files[`runs/${DISCOVERY_ID}/manifest.json`]));
const graph = adaptGraph(GRAPH, DISCOVERY_ID, manifest);

function sceneSvg(g = graph) {
  const vis = filterGraph(g, defaultFilters(g));
  return graphSceneToSvg(buildScene(vis, layeredLayout(vis.nodes, vis.edges), { title: 'graph' }), manifest);
}

describe('graph SVG export', () => {
  it('matches the golden file', async () => {
    await expect(sceneSvg()).toMatchFileSnapshot('./fixtures/golden/graph.svg');
  });

  it('parses, has exactly one element per node, and carries the manifest', () => {
    const svg = sceneSvg();
    const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
    expect(doc.getElementsByTagName('parsererror')).toHaveLength(0);
    const nodes = doc.querySelectorAll('[data-node-id]');
    expect(nodes).toHaveLength(graph.nodes.length);
    expect(new Set([...nodes].map((n) => n.getAttribute('data-node-id')))).toEqual(new Set(graph.nodes.map((n) => n.id)));
    expect(doc.querySelectorAll('circle.node')).toHaveLength(graph.nodes.length);
    expect(doc.querySelectorAll('line.edge')).toHaveLength(graph.edges.length);
    const meta = JSON.parse(doc.getElementById('run-manifest')!.textContent!);
    expect(meta.runId).toBe(DISCOVERY_ID);
    expect(meta.seed).toBe(42);
  });

  it('is deterministic: same bytes regardless of input order', () => {
    const shuffled = { ...graph, nodes: [...graph.nodes].reverse(), edges: [...graph.edges].reverse() };
    expect(sceneSvg(shuffled)).toBe(sceneSvg());
    expect(fullGraphSvg(graph)).toBe(fullGraphSvg(graph));
  });

  it('places early layers at the bottom and sizes nodes by |attribution|', () => {
    const vis = filterGraph(graph, defaultFilters(graph));
    const scene = buildScene(vis, layeredLayout(vis.nodes, vis.edges));
    const byId = new Map(scene.nodes.map((n) => [n.id, n]));
    for (const e of graph.edges) {
      const s = graph.nodes.find((n) => n.id === e.source)!, t = graph.nodes.find((n) => n.id === e.target)!;
      expect(s.layer).toBeLessThan(t.layer);
      expect(byId.get(e.source)!.y).toBeGreaterThan(byId.get(e.target)!.y); // SVG y grows downward
    }
    const sorted = [...graph.nodes].sort((a, b) => Math.abs(a.attribution) - Math.abs(b.attribution));
    expect(byId.get(sorted[0].id)!.r).toBeLessThanOrEqual(byId.get(sorted[sorted.length - 1].id)!.r);
  });

  it('exports only what the filters leave on screen', () => {
    const f = { ...defaultFilters(graph), roles: { harm: false, refusal: true, unlabelled: true } };
    const vis = filterGraph(graph, f);
    const svg = graphSceneToSvg(buildScene(vis, layeredLayout(vis.nodes, vis.edges)), manifest);
    const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
    expect(doc.querySelectorAll('circle.node')).toHaveLength(vis.nodes.length);
    expect(vis.nodes.length).toBe(graph.nodes.filter((n) => n.role !== 'harm').length);
  });
});

describe('reports', () => {
  const probes = adaptProbeReport(PROBES, 'probe-0001', { ...manifest, runId: 'probe-0001' });

  it('probe report Markdown matches the golden file', async () => {
    await expect(reportToMarkdown(probeReport(probes))).toMatchFileSnapshot('./fixtures/golden/probe-report.md');
  });

  it('probe figure SVG matches the golden file and parses', async () => {
    const svg = probeFigureSvg(probes);
    await expect(svg).toMatchFileSnapshot('./fixtures/golden/probe-figure.svg');
    const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
    expect(doc.getElementsByTagName('parsererror')).toHaveLength(0);
    // 8 dense layers × 2 series + 2 feature probes
    expect(doc.querySelectorAll('circle.point')).toHaveLength(18);
    expect(doc.querySelectorAll('path.whisker').length).toBeGreaterThanOrEqual(10);
  });

  it('probe report HTML embeds the figure, the table and the manifest', () => {
    const html = reportToHtml(probeReport(probes));
    const doc = new DOMParser().parseFromString(html, 'text/html');
    expect(doc.querySelectorAll('table')[0].querySelectorAll('tbody tr')).toHaveLength(3);
    expect(doc.querySelector('figure svg')).not.toBeNull();
    expect(doc.querySelector('section.manifest')!.textContent).toContain('probe-0001');
    expect(html).toBe(reportToHtml(probeReport(probes)));
  });

  it('run report Markdown matches the golden file', async () => {
    const res = adaptRunResults(RESULTS, DISCOVERY_ID, manifest);
    await expect(reportToMarkdown(runReport(res))).toMatchFileSnapshot('./fixtures/golden/run-report.md');
  });

  it('categories report Markdown matches the golden file', async () => {
    const c = adaptCategories(CATEGORIES, 'cat-0001', { ...manifest, runId: 'cat-0001' });
    await expect(reportToMarkdown(categoriesReport(c))).toMatchFileSnapshot('./fixtures/golden/categories-report.md');
  });
});

describe('tables and PNG', () => {
  it('CSV starts with the manifest comment and quotes awkward cells', () => {
    const csv = toCsv([{ a: 'x,y', b: 1.5 }, { a: 'say "hi"', b: null }], [
      { key: 'a', header: 'a', value: (r) => r.a },
      { key: 'b', header: 'b', value: (r) => r.b },
    ], manifest);
    const lines = csv.trimEnd().split('\n');
    expect(lines[0].startsWith('# manifest: {')).toBe(true);
    expect(JSON.parse(lines[0].slice('# manifest: '.length)).runId).toBe(DISCOVERY_ID);
    expect(lines.slice(1)).toEqual(['a,b', '"x,y",1.5', '"say ""hi""",']);
  });

  it('JSON export has sorted keys and the manifest', () => {
    const a = toJsonExport('t', { z: 1, a: [{ y: 2, b: 3 }] }, manifest);
    expect(a).toBe(toJsonExport('t', { a: [{ b: 3, y: 2 }], z: 1 }, manifest));
    expect(JSON.parse(a).manifest.runId).toBe(DISCOVERY_ID);
  });

  it('PNG carries the manifest in a tEXt chunk', () => {
    // 1×1 transparent PNG
    const b64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
    const png = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const out = pngAddText(png, 'run-manifest', JSON.stringify({ runId: 'r1', note: 'é' }));
    expect(out.length).toBeGreaterThan(png.length);
    const t = pngReadText(out);
    expect(JSON.parse(t['run-manifest'])).toEqual({ runId: 'r1', note: 'é' });
  });
});

describe('discovery graph format (workers/refusal/graph.ts)', () => {
  const raw = {
    kind: 'feature-graph',
    schemaVersion: 1,
    nodes: [
      { id: 'L2/5', layer: 2, index: 5, attribution: 0.5, topPositions: [{ sample: 0, position: 3, token: 9, value: 0.2 }], neuronpediaId: 'gemma-2-2b/2-gemmascope-res-65k/5' },
      { id: 'L4/7', layer: 4, index: 7, attribution: -0.25, topPositions: [], neuronpediaId: null },
    ],
    edges: [
      { source: 'L2/5', target: 'L4/7', weight: 0.3, method: 'gradient' },
      { source: 'L2/5', target: 'L4/7', weight: -0.1, method: 'clamp' },
    ],
    params: { priorLayers: 2, stopGradient: 'features', clampValue: null, samples: 16 },
  };
  it('adapts nodes, edge methods and Neuronpedia ids; the default filter shows gradient edges', () => {
    const g = adaptGraph(raw, 'r');
    expect(g.nodes.map((n) => n.id)).toEqual(['L2/5', 'L4/7']);
    expect(g.nodes[0].neuronpediaId).toBe('gemma-2-2b/2-gemmascope-res-65k/5');
    expect(g.edges.map((e) => e.kind)).toEqual(['gradient', 'clamp']);
    const f = defaultFilters(g);
    expect(f.edgeKind).toBe('gradient');
    expect(filterGraph(g, f).edges).toHaveLength(1);
    expect(filterGraph(g, { ...f, edgeKind: '' }).edges).toHaveLength(2);
  });
  it('roles from tags and from the categories run', async () => {
    const { withAnnotations } = await import('../../renderer/src/views/graph/GraphView');
    const g = adaptGraph(raw, 'r');
    const cat = adaptCategories({ categories: ['a'], common: [[4, 7]], specific: { a: [[2, 5]] } });
    expect(withAnnotations(g, {}, cat).nodes.map((n) => n.role)).toEqual(['harm', 'refusal']);
    const tagged = withAnnotations(g, { 'L2/5': { label: 'x', notes: '', tags: ['refusal', 'weapons'] } }, cat);
    expect(tagged.nodes[0]).toMatchObject({ role: 'refusal', label: 'x' });
    expect(tagged.nodes[0].tagColor).toMatch(/^#/);
  });
});

describe('stored results of a real demo discovery run (tests/ui/fixtures/real-demo)', () => {
  const read = (f: string) => JSON.parse(readFileSync(`${repoRoot}/tests/ui/fixtures/real-demo/${f}`, 'utf8'));
  it('graph, rates (with n) and manifest adapt', () => {
    const m = toViewManifest(read('manifest.json'));
    const g = adaptGraph(read('graph.json'), m.runId, m);
    expect(g.nodes.length).toBe(read('results.json').graph.nodes);
    expect(g.nodes.every((n) => /^L\d+\/\d+$/.test(n.id))).toBe(true);
    const res = adaptRunResults(read('results.json'), m.runId, m);
    expect(res.rates.map((r) => r.method)).toEqual(['base', 'cossim_ap', 'cossim', 'actdiff', 'ap', 'as', 'random']);
    expect(res.rates.every((r) => r.n === 80)).toBe(true);
    expect(res.harmlessRefusal).toHaveLength(7);
    const md = reportToMarkdown(runReport(res));
    expect(md).toContain('| harmful (held out) | base | 100% | 0% | 80 |');
    expect(md).toContain('| backend | wasm (SIMD, 2 threads) |');
  });
});

describe('categories and probe report formats (workers/categories, workers/probes)', () => {
  it('categories results.json → matrix from each K* with scores, interventions with n, transfer', () => {
    const rate = (rate: number, n: number) => ({ rate, refused: Math.round(rate * n), n });
    const raw = {
      kind: 'refusal-workbench/categories-results',
      categories: ['a', 'b'],
      sets: { categories: ['a', 'b'], common: [{ layer: 3, index: 1, score: 0.9 }], specific: { a: [{ layer: 1, index: 2, score: 0.5 }], b: [] }, jaccard: [[1, 0.5], [0.5, 1]] },
      rows: [
        { category: 'a', n: 10, kStar: [{ layer: 3, index: 1, score: 0.9 }, { layer: 1, index: 2, score: 0.5 }], refusal: { base: rate(1, 10), specific: rate(0.3, 10), common: rate(0.2, 10), union: rate(0.1, 10) } },
        { category: 'b', n: 8, kStar: [{ layer: 3, index: 1, score: 0.7 }], refusal: { base: rate(1, 8), specific: rate(0.9, 8), common: rate(0.25, 8), union: rate(0.125, 8) } },
      ],
      transfer: { a: { b: rate(0.5, 8) } },
      refusal_rate: { base: 1, specific: 0.6, common: 0.22, union: 0.11, transfer_mean: 0.5 },
      common_drop_when_specific_clamped: 0.4,
    };
    const c = adaptCategories(raw, 'categories-x');
    expect(c.common).toEqual(['L3/1']);
    expect(c.specific).toEqual({ a: ['L1/2'], b: [] });
    expect(c.matrix).toEqual({ a: { 'L3/1': 0.9, 'L1/2': 0.5 }, b: { 'L3/1': 0.7 } });
    expect(c.interventions.filter((i) => i.category === 'a')).toHaveLength(5);
    expect(c.interventions.find((i) => i.condition === 'transfer')).toEqual({ condition: 'transfer', category: 'a', target: 'b', refusalRate: 0.5, n: 8 });
    expect(c.commonDropWhenSpecificClamped).toBe(0.4);
  });

  it('probe-report.json per_group objects and group names', () => {
    const r = adaptProbeReport({
      kind: 'probe-run',
      manifest: { runId: 'p', groupNames: { '0': 'adversarial', '1': 'vanilla' } },
      probes: [{ name: 'dense', features: 'resid_post', layer: 2, l2: 1, val_acc: 0.9, ood_acc: 0.6, ood_acc_ci: [0.5, 0.7], auroc: 0.7, f1: 0.6, balanced_acc: 0.6, per_group: { '0': { acc: 0.4, n: 10, lo: 0.2, hi: 0.6 }, '1': { acc: 0.9, n: 10, lo: 0.8, hi: 1 } }, per_layer: [{ layer: 0, l2: 1, val_acc: 0.8, ood_acc: 0.5, ood_acc_ci: [0.4, 0.6] }] }],
    });
    expect(r.probes[0].perGroup).toEqual({ adversarial: 0.4, vanilla: 0.9 });
    expect(r.probes[0].perLayer).toEqual([{ layer: 0, valAcc: 0.8, oodAcc: 0.5, valCi: undefined, oodCi: [0.4, 0.6] }]);
  });
});
