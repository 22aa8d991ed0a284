import { useMemo, useState } from 'react';
import type { CategoriesVM, WorkbenchApi } from '../types';
import { parseFeatureKey } from '../types';
import { toViewApi } from '../api';
import { useAction, useAsync } from '../../components/useAsync';
import { EmptyState } from '../../components/EmptyState';
import { ProgressBar } from '../../components/ProgressBar';
import { Card, ErrorLine, ViewHeader } from '../../components/Section';
import { heatColor } from '../../components/TokenHeatmap';
import { navigate, selectFeature } from '../../components/nav';
import { fmt, pct } from '../../export/format';
import { saveExport } from '../../export/save';
import { toCsv, toJsonExport } from '../../export/table';
import { categoriesReport, reportToHtml, reportToMarkdown } from '../../export/reports';

/** Matrix columns: common features first, then each category's specific ones; each block by layer, index. */
export function matrixColumns(c: CategoriesVM): string[] {
  const byLI = (a: string, b: string) => {
    const pa = parseFeatureKey(a), pb = parseFeatureKey(b);
    return pa && pb ? pa.layer - pb.layer || pa.index - pb.index : a.localeCompare(b);
  };
  const common = [...new Set(c.common)].sort(byLI);
  const seen = new Set(common);
  const rest = new Set<string>();
  for (const cat of c.categories) {
    for (const k of c.specific[cat] ?? []) if (!seen.has(k)) rest.add(k);
    for (const k of Object.keys(c.matrix[cat] ?? {})) if (!seen.has(k)) rest.add(k);
  }
  return [...common, ...[...rest].sort(byLI)];
}

export function CategoriesView({ api: rawApi, embedded }: { api: WorkbenchApi; embedded?: boolean }) {
  const api = useMemo(() => toViewApi(rawApi), [rawApi]);
  const q = useAsync<CategoriesVM | null>(() => api.getCategories?.() ?? Promise.resolve(null), [api]);
  const act = useAction();
  const [saved, setSaved] = useState<string>();
  const c = q.data;
  if (embedded && (q.loading || !c || c.categories.length === 0)) return null;
  if (q.loading)
    return (
      <div className="wb-view" data-testid="view-categories">
        <ViewHeader title="Harm categories" />
        {q.slow && <ProgressBar label="Loading" />}
      </div>
    );
  if (!c || c.categories.length === 0)
    return (
      <div className="wb-view" data-testid="view-categories">
        <ViewHeader title="Harm categories" />
        <ErrorLine error={q.error} />
        <EmptyState
          title="No categories run yet"
          hint="Run the per-category discovery on a suite with a category field (e.g. CategoricalHarmfulQA, or the demo's categories) to see the common (refusal) and specific (harm) sets."
          testId="categories-empty"
        >
          <button onClick={() => navigate('runs')}>Go to Runs</button>
        </EmptyState>
      </div>
    );

  const cols = matrixColumns(c);
  const common = new Set(c.common);
  const max = Math.max(0, ...c.categories.flatMap((cat) => Object.values(c.matrix[cat] ?? {}).map(Math.abs)));
  const save = (name: string, data: () => string) => act.run(async () => setSaved(await saveExport(api, name, data())));
  const base = `${c.runId}-categories`;

  return (
    <div className="wb-view wb-categories" data-testid="view-categories">
      <ViewHeader title="Harm categories">
        <span className="wb-muted">run {c.runId}</span>
        <button onClick={() => navigate('graph')} data-testid="categories-show-graph">
          Common set in the graph
        </button>
      </ViewHeader>
      <ErrorLine error={act.error} />
      {saved && <p className="wb-muted">Saved {saved}</p>}
      <Card title={`Category × feature (${c.common.length} common, ${cols.length - c.common.length} specific)`} testId="categories-matrix">
        <div className="wb-scroll-x">
          <table className="wb-heatmap">
            <thead>
              <tr>
                <th />
                {cols.map((k) => (
                  <th key={k} className={common.has(k) ? 'common' : ''} title={common.has(k) ? 'common to every category' : 'category-specific'}>
                    <button className="wb-link wb-vertical" onClick={() => { selectFeature(k); navigate('features', { f: k }); }}>
                      {k}
                    </button>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {c.categories.map((cat) => (
                <tr key={cat}>
                  <th>{cat}</th>
                  {cols.map((k) => {
                    const v = c.matrix[cat]?.[k];
                    return (
                      <td key={k} className={common.has(k) ? 'common' : ''} style={{ background: v === undefined ? undefined : heatColor(v, max) }} title={`${cat} · ${k}: ${v === undefined ? 'not selected' : fmt(v, 4)}`} data-testid={`cat-cell-${cat}-${k}`}>
                        {v === undefined ? '' : '·'}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {c.commonDropWhenSpecificClamped !== undefined && (
          <p className="wb-muted" data-testid="categories-common-drop">
            Clamping a category's specific set lowers the common features' activations by {pct(c.commonDropWhenSpecificClamped)}.
          </p>
        )}
      </Card>
      <Card
        title="Interventions"
        testId="categories-interventions"
        actions={
          <>
            <button data-testid="export-categories-csv" onClick={() => save(`${base}.csv`, () => toCsv(c.interventions, [
              { key: 'condition', header: 'condition', value: (i) => i.condition },
              { key: 'category', header: 'category', value: (i) => i.category },
              { key: 'target', header: 'target', value: (i) => i.target },
              { key: 'rate', header: 'refusal_rate', value: (i) => i.refusalRate },
              { key: 'n', header: 'n', value: (i) => i.n },
            ], c.manifest))}>CSV</button>
            <button data-testid="export-categories-json" onClick={() => save(`${base}.json`, () => toJsonExport('refusal-workbench/categories', { categories: c.categories, common: c.common, specific: c.specific, interventions: c.interventions }, c.manifest))}>JSON</button>
            <button data-testid="export-categories-md" onClick={() => save(`${base}-report.md`, () => reportToMarkdown(categoriesReport(c)))}>Report .md</button>
            <button data-testid="export-categories-html" onClick={() => save(`${base}-report.html`, () => reportToHtml(categoriesReport(c)))}>Report .html</button>
            {api.writePdf && (
              <button data-testid="export-categories-pdf" title="Desktop app: printed with Electron's printToPDF" onClick={() => act.run(async () => setSaved(await api.writePdf!(`${base}-report.pdf`, reportToHtml(categoriesReport(c)))))}>Report .pdf</button>
            )}
          </>
        }
      >
        <table className="wb-table">
          <thead>
            <tr>
              <th>condition</th>
              <th>category</th>
              <th>prompts of</th>
              <th>refusal</th>
              <th>n</th>
            </tr>
          </thead>
          <tbody>
            {c.interventions.map((i, k) => (
              <tr key={k}>
                <td>{i.condition}</td>
                <td>{i.category}</td>
                <td>{i.target ?? i.category}</td>
                <td className="wb-num">{pct(i.refusalRate)}</td>
                <td className="wb-num">{i.n}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
    </div>
  );
}

export default CategoriesView;
