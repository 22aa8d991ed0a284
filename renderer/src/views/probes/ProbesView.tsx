import { useMemo, useState } from 'react';
import { CartesianGrid, ComposedChart, ErrorBar, Legend, Line, Scatter, Tooltip, XAxis, YAxis } from 'recharts';
import type { ProbeReportVM, WorkbenchApi } from '../types';
import { toViewApi } from '../api';
import { useAction, useAsync } from '../../components/useAsync';
import { EmptyState } from '../../components/EmptyState';
import { ProgressBar } from '../../components/ProgressBar';
import { Card, ErrorLine, ViewHeader } from '../../components/Section';
import { navigate } from '../../components/nav';
import { fmt } from '../../export/format';
import { saveExport, pngWithManifest } from '../../export/save';
import { svgToPng } from '../../export/png';
import { PROBE_COLORS, probeFigureSvg, probeSeries } from '../../export/reports';
import { probeReportHtml, probeReportMarkdown } from '../../../../common/results/probe-report';
import { toCsv, toJsonExport } from '../../export/table';

/** Recharts data: one row per x (layer); series values and [lo, hi] error offsets. */
export function probeChartData(report: ProbeReportVM) {
  const series = probeSeries(report);
  const xs = Array.from(new Set(series.flatMap((s) => s.points.map((p) => p.x)))).sort((a, b) => a - b);
  return {
    series,
    rows: xs.map((x) => {
      const row: Record<string, number | [number, number] | undefined> = { layer: x };
      series.forEach((s, i) => {
        const p = s.points.find((q) => q.x === x);
        if (!p) return;
        row[`s${i}`] = p.y;
        if (p.lo !== undefined && p.hi !== undefined) row[`e${i}`] = [p.y - p.lo, p.hi - p.y];
      });
      return row;
    }),
  };
}

export function ProbesView({ api: rawApi }: { api: WorkbenchApi }) {
  const api = useMemo(() => toViewApi(rawApi), [rawApi]);
  const q = useAsync<ProbeReportVM | null>(() => api.getProbeReport?.() ?? Promise.resolve(null), [api]);
  const act = useAction();
  const [saved, setSaved] = useState<string>();
  const r = q.data;

  if (q.loading)
    return (
      <div className="wb-view" data-testid="view-probes">
        <ViewHeader title="Probes" />
        {q.slow && <ProgressBar label="Loading probe report" />}
      </div>
    );
  if (!r || r.probes.length === 0)
    return (
      <div className="wb-view" data-testid="view-probes">
        <ViewHeader title="Probes" />
        <ErrorLine error={q.error} />
        <EmptyState
          title="No probe run yet"
          hint="Train dense, refusal-feature and random-feature probes from Runs (or `npx refusal-workbench probe --project DIR`); the accuracy per layer and the OOD intervals show here."
          testId="probes-empty"
        >
          <button onClick={() => navigate('runs')}>Go to Runs</button>
        </EmptyState>
      </div>
    );

  const { series, rows } = probeChartData(r);
  const save = (name: string, data: () => string | Uint8Array | Promise<string | Uint8Array>) =>
    act.run(async () => setSaved(await saveExport(api, name, await data())));
  const base = `${r.runId}-probes`;
  // the one probe report writer (common/results/probe-report.ts), as the probe step writes it
  const title = { title: `Probe report — ${r.runId}` };

  return (
    <div className="wb-view wb-probes" data-testid="view-probes">
      <ViewHeader title="Probes">
        <span className="wb-muted">run {r.runId}</span>
        <button data-testid="export-probe-png" onClick={() => save(`${base}.png`, async () => pngWithManifest(await svgToPng(probeFigureSvg(r)), r.manifest))}>
          PNG
        </button>
        <button data-testid="export-probe-svg" onClick={() => save(`${base}.svg`, () => probeFigureSvg(r))}>
          SVG
        </button>
        <button
          data-testid="export-probe-csv"
          onClick={() =>
            save(`${base}.csv`, () =>
              toCsv(r.probes, [
                { key: 'name', header: 'probe', value: (p) => p.name },
                { key: 'features', header: 'features', value: (p) => p.features },
                { key: 'layer', header: 'layer', value: (p) => p.layer },
                { key: 'val', header: 'val_acc', value: (p) => p.valAcc },
                { key: 'ood', header: 'ood_acc', value: (p) => p.oodAcc },
                { key: 'lo', header: 'ood_acc_lo', value: (p) => p.oodAccCi[0] },
                { key: 'hi', header: 'ood_acc_hi', value: (p) => p.oodAccCi[1] },
                { key: 'bal', header: 'balanced_acc', value: (p) => p.balancedAcc },
                { key: 'auroc', header: 'auroc', value: (p) => p.auroc },
                { key: 'f1', header: 'f1', value: (p) => p.f1 },
              ], r.manifest),
            )
          }
        >
          CSV
        </button>
        <button data-testid="export-probe-json" onClick={() => save(`${base}.json`, () => toJsonExport('refusal-workbench/probe-report', r.probes, r.manifest))}>
          JSON
        </button>
        <button data-testid="export-probe-report" onClick={() => save(`${base}-report.md`, () => probeReportMarkdown(r.report, title))}>
          Report .md
        </button>
        <button data-testid="export-probe-report-html" onClick={() => save(`${base}-report.html`, () => probeReportHtml(r.report, title))}>
          Report .html
        </button>
        {api.writePdf && (
          <button data-testid="export-probe-report-pdf" title="Desktop app: printed with Electron's printToPDF" onClick={() => act.run(async () => setSaved(await api.writePdf!(`${base}-report.pdf`, probeReportHtml(r.report, title))))}>
            Report .pdf
          </button>
        )}
      </ViewHeader>
      <ErrorLine error={act.error} />
      {act.slow && <ProgressBar label="Exporting" />}
      {saved && <p className="wb-muted" data-testid="probe-exported">Saved {saved}</p>}
      <Card title="Accuracy per layer — in-distribution vs OOD" testId="probe-chart">
        <ComposedChart width={720} height={340} data={rows} margin={{ top: 10, right: 20, bottom: 20, left: 10 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="layer" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} label={{ value: 'layer', position: 'insideBottom', offset: -10 }} />
          <YAxis domain={[0, 1]} tickFormatter={(v: number) => fmt(v, 1)} label={{ value: 'accuracy', angle: -90, position: 'insideLeft' }} />
          <Tooltip formatter={(v) => (typeof v === 'number' ? fmt(v, 3) : String(v))} />
          <Legend verticalAlign="top" />
          {series.map((s, i) =>
            s.pointsOnly ? (
              <Scatter key={s.name} name={s.name} dataKey={`s${i}`} fill={s.color} isAnimationActive={false}>
                <ErrorBar dataKey={`e${i}`} width={6} stroke={s.color} direction="y" />
              </Scatter>
            ) : (
              <Line key={s.name} name={s.name} dataKey={`s${i}`} stroke={s.color} strokeDasharray={s.dashed ? '5 3' : undefined} dot isAnimationActive={false} connectNulls>
                <ErrorBar dataKey={`e${i}`} width={4} stroke={s.color} direction="y" />
              </Line>
            ),
          )}
        </ComposedChart>
        <p className="wb-muted">
          Lines: the dense probe per layer (<span style={{ color: PROBE_COLORS.inDist }}>in-distribution</span>,{' '}
          <span style={{ color: PROBE_COLORS.ood }}>OOD</span>); points at the right: feature probes' OOD accuracy (all layers' features) with 95% bootstrap intervals.
        </p>
      </Card>
      <Card title="Probes" testId="probe-table">
        <table className="wb-table">
          <thead>
            <tr>
              <th>probe</th>
              <th>features</th>
              <th>layer</th>
              <th>val acc</th>
              <th>OOD acc</th>
              <th>OOD 95% CI</th>
              <th>balanced</th>
              <th>AUROC</th>
              <th>F1</th>
              <th>per group</th>
            </tr>
          </thead>
          <tbody>
            {r.probes.map((p) => (
              <tr key={p.name} data-testid={`probe-row-${p.name}`}>
                <th>{p.name}</th>
                <td>{p.features}</td>
                <td className="wb-num">{p.layer ?? '—'}</td>
                <td className="wb-num">{fmt(p.valAcc, 3)}</td>
                <td className="wb-num">{fmt(p.oodAcc, 3)}</td>
                <td className="wb-num">
                  [{fmt(p.oodAccCi[0], 3)}, {fmt(p.oodAccCi[1], 3)}]
                </td>
                <td className="wb-num">{p.balancedAcc === undefined ? '—' : fmt(p.balancedAcc, 3)}</td>
                <td className="wb-num">{fmt(p.auroc, 3)}</td>
                <td className="wb-num">{p.f1 === undefined ? '—' : fmt(p.f1, 3)}</td>
                <td>{p.perGroup ? Object.entries(p.perGroup).map(([g, v]) => `${g} ${fmt(v, 3)}`).join(' · ') : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
    </div>
  );
}

export default ProbesView;
