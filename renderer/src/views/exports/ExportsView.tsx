import { useMemo, useState } from 'react';
import type { ExportRecordVM, GraphVM, ProbeReportVM, RunResultsVM, RunSummaryVM, WorkbenchApi } from '../types';
import { toViewApi } from '../api';
import { useAction, useAsync } from '../../components/useAsync';
import { EmptyState } from '../../components/EmptyState';
import { ProgressBar } from '../../components/ProgressBar';
import { Card, ErrorLine, ViewHeader } from '../../components/Section';
import { navigate } from '../../components/nav';
import { buildScene, defaultFilters, filterGraph, layeredLayout } from '../../components/graph/graphModel';
import { graphSceneToSvg } from '../../export/svg';
import { saveExport } from '../../export/save';
import { toCsv, toJsonExport } from '../../export/table';
import { probeFigureSvg, reportToHtml, reportToMarkdown, runReport } from '../../export/reports';
import { probeReportHtml, probeReportMarkdown } from '../../../../common/results/probe-report';
import { withAnnotations } from '../graph/GraphView';

/** The full graph in the default layered layout (the Graph view exports what is on screen instead). */
export function fullGraphSvg(g: GraphVM): string {
  const vis = filterGraph(g, defaultFilters(g));
  return graphSceneToSvg(buildScene(vis, layeredLayout(vis.nodes, vis.edges), { title: `Causal feature graph — ${g.runId}` }), g.manifest);
}

interface Item {
  id: string;
  group: string;
  label: string;
  file: string;
  make: () => string;
}

export function ExportsView({ api: rawApi }: { api: WorkbenchApi }) {
  const api = useMemo(() => toViewApi(rawApi), [rawApi]);
  const q = useAsync(async () => {
    const [graph, probes, runs, ann] = await Promise.all([
      api.getGraph?.().catch(() => null) ?? null,
      api.getProbeReport?.().catch(() => null) ?? null,
      api.listRuns?.().catch(() => [] as RunSummaryVM[]) ?? [],
      api.getAnnotations?.().catch(() => ({})) ?? {},
    ]);
    let results: RunResultsVM | null = null;
    for (const r of runs ?? []) {
      results = (await api.getRunResults?.(r.id).catch(() => null)) ?? null;
      if (results && results.rates.length) break;
    }
    return { graph: graph ? withAnnotations(graph, ann ?? undefined) : null, probes: probes as ProbeReportVM | null, results };
  }, [api]);
  const filesQ = useAsync<ExportRecordVM[]>(() => api.listExports?.() ?? Promise.resolve([]), [api]);
  const act = useAction();
  const [saved, setSaved] = useState<string[]>([]);

  const items: Item[] = [];
  const d = q.data;
  if (d?.graph) {
    const g = d.graph;
    items.push({ id: 'graph-svg', group: 'Causal graph', label: 'Figure — SVG (full graph)', file: `${g.runId}-graph-full.svg`, make: () => fullGraphSvg(g) });
    items.push({ id: 'graph-json', group: 'Causal graph', label: 'Data — JSON', file: `${g.runId}-graph.json`, make: () => toJsonExport('refusal-workbench/graph', { nodes: g.nodes, edges: g.edges }, g.manifest) });
    items.push({
      id: 'graph-csv',
      group: 'Causal graph',
      label: 'Nodes — CSV',
      file: `${g.runId}-graph-nodes.csv`,
      make: () => toCsv(g.nodes, [
        { key: 'id', header: 'feature', value: (n) => n.id },
        { key: 'layer', header: 'layer', value: (n) => n.layer },
        { key: 'index', header: 'index', value: (n) => n.index },
        { key: 'attr', header: 'attribution', value: (n) => n.attribution },
        { key: 'role', header: 'role', value: (n) => n.role },
        { key: 'label', header: 'label', value: (n) => n.label },
      ], g.manifest),
    });
  }
  if (d?.results) {
    const r = d.results;
    items.push({ id: 'rates-csv', group: 'Discovery results', label: 'Rates — CSV', file: `${r.runId}-rates.csv`, make: () => toCsv(r.rates, [
      { key: 'suite', header: 'suite', value: (x) => x.suite },
      { key: 'method', header: 'method', value: (x) => x.method },
      { key: 'refusal', header: 'refusal_rate', value: (x) => x.refusal },
      { key: 'n', header: 'n', value: (x) => x.n },
    ], r.manifest) });
    items.push({ id: 'rates-json', group: 'Discovery results', label: 'Rates — JSON', file: `${r.runId}-rates.json`, make: () => toJsonExport('refusal-workbench/rates', r.rates, r.manifest) });
    items.push({ id: 'run-md', group: 'Discovery results', label: 'Report — Markdown', file: `${r.runId}-report.md`, make: () => reportToMarkdown(runReport(r)) });
    items.push({ id: 'run-html', group: 'Discovery results', label: 'Report — HTML', file: `${r.runId}-report.html`, make: () => reportToHtml(runReport(r)) });
  }
  if (d?.probes) {
    const p = d.probes;
    items.push({ id: 'probe-svg', group: 'Probes', label: 'Figure — SVG', file: `${p.runId}-probes.svg`, make: () => probeFigureSvg(p) });
    items.push({ id: 'probe-md', group: 'Probes', label: 'Report — Markdown', file: `${p.runId}-probes-report.md`, make: () => probeReportMarkdown(p.report, { title: `Probe report — ${p.runId}` }) });
    items.push({ id: 'probe-html', group: 'Probes', label: 'Report — HTML', file: `${p.runId}-probes-report.html`, make: () => probeReportHtml(p.report, { title: `Probe report — ${p.runId}` }) });
  }
  const groups = Array.from(new Set(items.map((i) => i.group)));
  const doExport = (it: Item) =>
    act.run(async () => {
      const p = await saveExport(api, it.file, it.make());
      setSaved((s) => [...s, p]);
      filesQ.reload();
    });

  return (
    <div className="wb-view wb-exports" data-testid="view-exports">
      <ViewHeader title="Exports">
        {items.length > 0 && (
          <button data-testid="export-all" onClick={() => act.run(async () => { for (const it of items) { const p = await saveExport(api, it.file, it.make()); setSaved((s) => [...s, p]); } filesQ.reload(); })}>
            Export everything
          </button>
        )}
      </ViewHeader>
      <p className="wb-muted">Every figure, table and report carries its run manifest (SVG &lt;metadata&gt;, PNG text chunk, CSV comment line, JSON field, report section). PDF: print the HTML report from the desktop app.</p>
      <ErrorLine error={act.error ?? q.error} />
      {(q.slow || act.slow) && <ProgressBar />}
      {!q.loading && items.length === 0 && (
        <EmptyState title="Nothing to export yet" hint="Run discovery or probes first; their figures, tables and reports appear here." testId="exports-empty">
          <button onClick={() => navigate('runs')}>Go to Runs</button>
        </EmptyState>
      )}
      <div className="wb-cards">
        {groups.map((g) => (
          <Card key={g} title={g}>
            <ul className="wb-export-list">
              {items
                .filter((i) => i.group === g)
                .map((i) => (
                  <li key={i.id}>
                    <button data-testid={`export-${i.id}`} onClick={() => doExport(i)} disabled={act.busy}>
                      {i.label}
                    </button>{' '}
                    <span className="wb-muted wb-mono">{i.file}</span>
                  </li>
                ))}
            </ul>
          </Card>
        ))}
        <Card title="Written to exports/" testId="exports-files">
          {saved.length > 0 && <p className="wb-ok">Saved: {saved.join(', ')}</p>}
          {(filesQ.data ?? []).length === 0 ? (
            <p className="wb-muted">No files yet.</p>
          ) : (
            <ul className="wb-export-list">
              {filesQ.data!.map((f) => (
                <li key={f.name} className="wb-mono">
                  {f.path ?? f.name}
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>
    </div>
  );
}

export default ExportsView;
