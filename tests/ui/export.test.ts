// @vitest-environment jsdom
import { readFileSync } from 'node:fs';
import { repoRoot } from '../helpers/fixtures';
/** Deterministic exports: seeded data → golden SVG / Markdown; SVG parses with one element per node. */
import { describe, expect, it } from 'vitest';
import type { RunManifest } from '../../renderer/src/views/types';
import { categoriesVM, graphVM, probeReportVM, runResultsVM } from '../../renderer/src/views/viewmodels';
import { withAnnotations } from '../../renderer/src/views/graph/GraphView';
import { categoriesResults, discoveryResults, featureGraph, probeReport, readResult, readResultText, runManifest } from '../../common/results/index';
import { probeReportHtml, probeReportMarkdown } from '../../common/results/probe-report';
import { buildScene, defaultFilters, filterGraph, layeredLayout } from '../../renderer/src/components/graph/graphModel';
import { graphSceneToSvg } from '../../renderer/src/export/svg';
import { categoriesReport, probeFigureSvg, reportToMarkdown, runReport } from '../../renderer/src/export/reports';
import { toCsv, toJsonExport } from '../../renderer/src/export/table';
import { pngAddText, pngReadText } from '../../renderer/src/export/png';
import { fullGraphSvg } from '../../renderer/src/views/exports/ExportsView';
import { CATEGORIES, CATEGORIES_ID, DISCOVERY_ID, GRAPH, HARM, PROBES, PROBES_ID, RESULTS, projectFiles } from './fixtures/data';

const files = projectFiles();
const manifestOf = (id: string): RunManifest => readResultText(runManifest, files[`runs/${id}/manifest.json`], `runs/${id}/manifest.json`);
const manifest = manifestOf(DISCOVERY_ID);
const categories = categoriesVM(readResult(categoriesResults, CATEGORIES, 'results.json'), manifestOf(CATEGORIES_ID));
// roles as the Graph view gives them: from the categories run (specific → harm, common → refusal)
const graph = withAnnotations(graphVM(readResult(featureGraph, GRAPH, 'graph.json'), manifest), {}, categories);

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
    expect(meta.id).toBe(DISCOVERY_ID);
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
    expect(vis.nodes.length).toBe(graph.nodes.filter((n) => !HARM.has(n.id)).length);
    expect(vis.nodes.length).toBe(GRAPH.nodes.length - 3);
  });
});

describe('reports', () => {
  const probes = probeReportVM(readResult(probeReport, PROBES, 'probe-report.json'), manifestOf(PROBES_ID));

  it('probe report Markdown (the one writer, common/results/probe-report.ts) matches the golden file', async () => {
    await expect(probeReportMarkdown(probes.report, { title: `Probe report — ${probes.runId}` })).toMatchFileSnapshot('./fixtures/golden/probe-report.md');
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

  it('probe report HTML embeds the chart, the table and the run', () => {
    const html = probeReportHtml(probes.report);
    const doc = new DOMParser().parseFromString(html, 'text/html');
    expect(doc.querySelectorAll('table')[0].querySelectorAll('tbody tr')).toHaveLength(3);
    expect(doc.querySelector('svg')).not.toBeNull();
    expect(doc.body.textContent).toContain(PROBES_ID);
    expect(html).toBe(probeReportHtml(probes.report));
  });

  it('run report Markdown matches the golden file', async () => {
    const res = runResultsVM(readResult(discoveryResults, RESULTS, 'results.json'), manifest);
    await expect(reportToMarkdown(runReport(res))).toMatchFileSnapshot('./fixtures/golden/run-report.md');
  });

  it('categories report Markdown matches the golden file', async () => {
    await expect(reportToMarkdown(categoriesReport(categories))).toMatchFileSnapshot('./fixtures/golden/categories-report.md');
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
    expect(JSON.parse(lines[0].slice('# manifest: '.length)).id).toBe(DISCOVERY_ID);
    expect(lines.slice(1)).toEqual(['a,b', '"x,y",1.5', '"say ""hi""",']);
  });

  it('JSON export has sorted keys and the manifest', () => {
    const a = toJsonExport('t', { z: 1, a: [{ y: 2, b: 3 }] }, manifest);
    expect(a).toBe(toJsonExport('t', { a: [{ b: 3, y: 2 }], z: 1 }, manifest));
    expect(JSON.parse(a).manifest.id).toBe(DISCOVERY_ID);
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
    kind: 'refusal-workbench/feature-graph',
    schemaVersion: 2,
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
  const g = graphVM(readResult(featureGraph, raw, 'graph.json'), manifest);
  it('nodes, edge methods and Neuronpedia ids; the default filter shows gradient edges', () => {
    expect(g.nodes.map((n) => n.id)).toEqual(['L2/5', 'L4/7']);
    expect(g.nodes[0].neuronpediaId).toBe('gemma-2-2b/2-gemmascope-res-65k/5');
    expect(g.nodes[1].neuronpediaId).toBeUndefined();
    expect(g.edges.map((e) => e.kind)).toEqual(['gradient', 'clamp']);
    const f = defaultFilters(g);
    expect(f.edgeKind).toBe('gradient');
    expect(filterGraph(g, f).edges).toHaveLength(1);
    expect(filterGraph(g, { ...f, edgeKind: '' }).edges).toHaveLength(2);
  });
  it('roles from tags and from the categories run', () => {
    const r = (x: number) => ({ rate: x, refused: 0, n: 1 });
    const cat = categoriesVM(
      readResult(
        categoriesResults,
        {
          ...CATEGORIES,
          categories: ['a'],
          sets: { ...CATEGORIES.sets, categories: ['a'], common: [{ layer: 4, index: 7, score: 1 }], specific: { a: [{ layer: 2, index: 5, score: 1 }] }, specificFullCount: { a: 1 }, jaccard: [[1]] },
          rows: [{ category: 'a', n: 1, kStar: [], refusal: { base: r(1), specific: null, common: r(0), union: r(0) }, commonDrop: 0, pRefusal: { base: 1, specificClamped: 1 } }],
          transfer: {},
        },
        'results.json',
      ),
      manifest,
    );
    expect(withAnnotations(g, {}, cat).nodes.map((n) => n.role)).toEqual(['harm', 'refusal']);
    const tagged = withAnnotations(g, { 'L2/5': { label: 'x', notes: '', tags: ['refusal', 'weapons'] } }, cat);
    expect(tagged.nodes[0]).toMatchObject({ role: 'refusal', label: 'x' });
    expect(tagged.nodes[0].tagColor).toMatch(/^#/);
    // an unmeasured specific condition (null) is no intervention row, not a rate of 0
    expect(cat.interventions.map((i) => i.condition)).toEqual(['base', 'common', 'union']);
  });
});

describe('stored results of a real demo discovery run (tests/ui/fixtures/real-demo, written as version 1)', () => {
  const text = (f: string) => readFileSync(`${repoRoot}/tests/ui/fixtures/real-demo/${f}`, 'utf8');
  it('graph, rates (with n) and manifest upgrade and parse', () => {
    const m = readResultText(runManifest, text('manifest.json'), 'manifest.json');
    const g = graphVM(readResultText(featureGraph, text('graph.json'), 'graph.json'), m);
    const results = readResultText(discoveryResults, text('results.json'), 'results.json');
    expect(g.nodes.length).toBe(results.graph!.nodes);
    expect(g.nodes.every((n) => /^L\d+\/\d+$/.test(n.id))).toBe(true);
    const res = runResultsVM(results, m);
    expect(res.rates.map((r) => r.method)).toEqual(['base', 'cossim_ap', 'cossim', 'actdiff', 'ap', 'as', 'random']);
    expect(res.rates.every((r) => r.n === 80)).toBe(true);
    expect(res.harmlessRefusal).toHaveLength(7);
    const md = reportToMarkdown(runReport(res));
    expect(md).toContain('| harmful (held out) | base | 100% | 0% | 80 |');
    expect(md).toContain('| backend | wasm (SIMD, 2 threads) |');
  });
});

describe('categories results.json → view model', () => {
  it('matrix from each K* with scores, interventions with n, transfer', () => {
    expect(categories.common).toEqual([GRAPH.nodes[12], GRAPH.nodes[13]].map((n) => `L${n.layer}/${n.index}`));
    expect(categories.matrix.cyber[`L${GRAPH.nodes[0].layer}/${GRAPH.nodes[0].index}`]).toBe(0.9);
    expect(categories.interventions.filter((i) => i.category === 'cyber')).toHaveLength(5);
    expect(categories.interventions.find((i) => i.condition === 'transfer')).toEqual({ condition: 'transfer', category: 'cyber', target: 'fraud', refusalRate: 0.44, n: 50 });
    expect(categories.commonDropWhenSpecificClamped).toBe(0.37);
  });
  it('probe-report.json per_group objects and group names', () => {
    const r = probeReportVM(readResult(probeReport, PROBES, 'probe-report.json'), manifestOf(PROBES_ID));
    expect(r.probes[0].perGroup).toEqual({ adversarial: 0.42, vanilla: 0.96 });
    expect(r.probes[0].perLayer![0]).toEqual({ layer: 1, valAcc: 0.735, oodAcc: 0.52, oodCi: [0.47, 0.57] });
  });
});
