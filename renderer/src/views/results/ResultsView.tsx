/**
 * Results: every run with an experiment table (issue 16's experiments.json), side by side. A runs table with
 * key parameters, suites, judges and headline rates with 95% Wilson intervals; select two or more to compare
 * (table + grouped bar chart method × suite × setting, McNemar p-values); the sweep as line charts (rate vs
 * clamp value, rate vs K*); induced refusal and CE side effects per method; the suffix (jailbreak-mechanism)
 * analysis. Every card exports PNG/SVG/CSV and, when empty, names the step that produces it.
 */
import { useMemo, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { WorkbenchApi } from '../../../../common/api';
import type { ExperimentRow } from '../../../../common/results/experiments';
import { useAsync } from '../../components/useAsync';
import { EmptyState } from '../../components/EmptyState';
import { ErrorLine, ViewHeader } from '../../components/Section';
import { fmt } from '../../export/format';
import { ChartCard } from './ChartCard';
import { experimentRuns, type ExperimentRun } from './data';

const COLORS = ['#1c7ed6', '#e8590c', '#2f9e44', '#ae3ec9', '#f08c00', '#0ca678', '#d6336c', '#5c7cfa'];
const SWEEP_STEP = 'refusal.discover with a `sweep` key in its pipeline (Runs → pipeline file)';
const EVAL_STEP = 'refusal.discover with an `evaluate` key';

const ci = (r: { rate: number | null; ci: [number, number] | null }) => (r.rate === null ? '—' : `${fmt(r.rate, 2)}${r.ci ? ` [${fmt(r.ci[0], 2)}, ${fmt(r.ci[1], 2)}]` : ''}`);
const setting = (r: ExperimentRow) => `K*=${r.kStar ?? '–'} c=${r.clampValue ?? '–'} ${r.setKind ?? ''}`.trim();
const ROW_COLUMNS = [
  { key: 'run', header: 'run', value: (r: ExperimentRow & { run: string }) => r.run },
  ...(['suite', 'role', 'method', 'kStar', 'clampValue', 'setKind', 'edit', 'metric', 'group', 'n', 'k', 'rate', 'ce'] as const).map((k) => ({
    key: k,
    header: k,
    value: (r: ExperimentRow & { run: string }) => r[k] as string | number | null,
  })),
  { key: 'ci_lo', header: 'ci_lo', value: (r: ExperimentRow) => r.ci?.[0] ?? null },
  { key: 'ci_hi', header: 'ci_hi', value: (r: ExperimentRow) => r.ci?.[1] ?? null },
];

/** The run's own-setting rows on harmful suites (refusal metric, whole suite). */
function headline(t: ExperimentRun['table']): ExperimentRow[] {
  return t.rows.filter((r) => r.role === 'harmful' && r.metric === 'refusal' && r.group === null && r.edit !== 'set' && (r.kStar === null || r.kStar === t.kStar) && (r.clampValue === null || r.clampValue === t.clampValue) && (r.setKind === null || r.setKind === t.setKind));
}

export function sweepSeries(run: ExperimentRun, axis: 'clampValue' | 'kStar'): { data: Array<Record<string, number>>; methods: string[]; rows: ExperimentRow[] } {
  const t = run.table;
  const rows = t.rows.filter(
    (r) => r.role === 'harmful' && r.metric === 'refusal' && r.group === null && r.edit === 'multiply' && r.setKind === t.setKind && (axis === 'clampValue' ? r.kStar === t.kStar : r.clampValue === t.clampValue),
  );
  const suite = rows[0]?.suite;
  const mine = rows.filter((r) => r.suite === suite && r[axis] !== null && r.rate !== null);
  const xs = [...new Set(mine.map((r) => r[axis] as number))].sort((a, b) => a - b);
  const methods = [...new Set(mine.map((r) => r.method))];
  if (xs.length < 2) return { data: [], methods, rows: [] };
  const data = xs.map((x) => {
    const o: Record<string, number> = { x };
    for (const r of mine) if (r[axis] === x) o[r.method] = r.rate!;
    return o;
  });
  return { data, methods, rows: mine };
}

export function ResultsView({ api }: { api: WorkbenchApi }) {
  const q = useAsync(() => experimentRuns(api), [api]);
  const runs = q.data?.runs ?? [];
  const [picked, setPicked] = useState<string[]>([]);
  const chosen = runs.filter((r) => picked.includes(r.manifest.id));
  const focus = chosen[0] ?? runs[0];
  const manifest = focus ? focus.manifest : null;
  const toggle = (id: string) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id]));

  const compareRows = useMemo(() => chosen.flatMap((r) => headline(r.table).map((row) => ({ ...row, run: r.manifest.id }))), [chosen]);
  const compareChart = useMemo(() => {
    const keys = [...new Set(compareRows.map((r) => `${r.suite} · ${r.method}`))];
    return keys.map((k) => {
      const o: Record<string, string | number> = { key: k };
      for (const r of compareRows) if (`${r.suite} · ${r.method}` === k && r.rate !== null) o[r.run] = r.rate;
      return o;
    });
  }, [compareRows]);
  const mcnemar = chosen.flatMap((r) => r.table.mcnemar.map((m) => ({ ...m, run: r.manifest.id })));
  const byClamp = focus ? sweepSeries(focus, 'clampValue') : { data: [], methods: [], rows: [] };
  const byK = focus ? sweepSeries(focus, 'kStar') : { data: [], methods: [], rows: [] };
  const sideRows = focus ? focus.table.rows.filter((r) => r.role === 'harmless' && r.edit !== 'set').map((r) => ({ ...r, run: focus.manifest.id })) : [];
  const inducedRows = focus ? focus.table.rows.filter((r) => r.edit === 'set').map((r) => ({ ...r, run: focus.manifest.id })) : [];
  const suffix = focus?.table.suffix ?? [];

  if (q.loading) return <div className="wb-view" data-testid="view-results"><ViewHeader title="Results" /><p className="wb-muted">Loading runs…</p></div>;
  return (
    <div className="wb-view wb-results" data-testid="view-results">
      <ViewHeader title="Results" />
      <ErrorLine error={q.error ?? (q.data?.errors.length ? `Not shown (not a valid experiment table): ${q.data.errors.join('; ')}` : undefined)} />
      {runs.length === 0 ? (
        <EmptyState title="No experiment tables yet" hint={`Run ${EVAL_STEP} or ${SWEEP_STEP}; each run's experiments.json appears here.`} testId="results-empty" />
      ) : (
        <>
          <table className="wb-table" data-testid="results-runs">
            <thead>
              <tr><th /><th>run</th><th>started</th><th>layer</th><th>K*</th><th>clamp</th><th>sets</th><th>suites</th><th>judges</th><th>headline refusal (95% CI)</th></tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.manifest.id}>
                  <td><input type="checkbox" data-testid={`results-pick-${r.manifest.id}`} checked={picked.includes(r.manifest.id)} onChange={() => toggle(r.manifest.id)} /></td>
                  <td className="wb-mono">{r.manifest.id}</td>
                  <td>{r.manifest.startedAt.replace('T', ' ').slice(0, 19)}</td>
                  <td>{r.table.layer}</td>
                  <td>{r.table.kStar}</td>
                  <td>{r.table.clampValue}</td>
                  <td>{r.table.setKind}</td>
                  <td>{[...new Set(r.table.rows.map((x) => x.suite))].join(', ')}</td>
                  <td>{[...new Set(r.table.rows.map((x) => x.judge).filter(Boolean))].join(', ')}</td>
                  <td>{headline(r.table).map((h) => `${h.method} ${ci(h)}`).join(' · ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="wb-cards">
            <ChartCard api={api} title="Comparison: method × suite (own setting)" testId="results-compare" name="comparison" manifest={manifest} rows={chosen.length >= 2 ? compareRows : []} columns={ROW_COLUMNS} empty="Select two or more runs above to compare them.">
              <BarChart width={640} height={260} data={compareChart} margin={{ top: 8, right: 8, bottom: 40, left: 8 }}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="key" fontSize={9} angle={-20} textAnchor="end" interval={0} />
                <YAxis domain={[0, 1]} fontSize={10} />
                <Tooltip />
                <Legend verticalAlign="top" />
                {chosen.map((r, i) => <Bar key={r.manifest.id} dataKey={r.manifest.id} fill={COLORS[i % COLORS.length]} isAnimationActive={false} />)}
              </BarChart>
              <table className="wb-table" data-testid="results-compare-table">
                <thead><tr><th>run</th><th>suite</th><th>method</th><th>setting</th><th>n</th><th>rate [95% CI]</th></tr></thead>
                <tbody>{compareRows.map((r, i) => <tr key={i}><td className="wb-mono">{r.run}</td><td>{r.suite}</td><td>{r.method}</td><td>{setting(r)}</td><td>{r.n}</td><td>{ci(r)}</td></tr>)}</tbody>
              </table>
            </ChartCard>
            <ChartCard api={api} title="McNemar: method vs method (paired prompts)" testId="results-mcnemar" name="mcnemar" manifest={manifest} chart={false} rows={mcnemar} columns={(['run', 'suite', 'a', 'b', 'n', 'b10', 'b01', 'p'] as const).map((k) => ({ key: k, header: k, value: (r: (typeof mcnemar)[number]) => r[k] as string | number }))} empty={chosen.length ? `The selected runs have no McNemar rows (${EVAL_STEP} writes them).` : 'Select runs to see their McNemar p-values.'}>
              <table className="wb-table"><thead><tr><th>run</th><th>suite</th><th>a vs b</th><th>setting</th><th>n</th><th>a only / b only</th><th>p</th></tr></thead>
                <tbody>{mcnemar.slice(0, 200).map((m, i) => <tr key={i}><td className="wb-mono">{m.run}</td><td>{m.suite}</td><td>{m.a} vs {m.b}</td><td>K*={m.kStar ?? '–'} c={m.clampValue ?? '–'}</td><td>{m.n}</td><td>{m.b10} / {m.b01}</td><td>{fmt(m.p, 4)}</td></tr>)}</tbody></table>
            </ChartCard>
            <ChartCard api={api} title={`Sweep: refusal rate vs clamp value${focus ? ` (run ${focus.manifest.id}, K*=${focus.table.kStar})` : ''}`} testId="results-sweep-clamp" name="sweep-clamp" manifest={manifest} rows={byClamp.rows.map((r) => ({ ...r, run: focus!.manifest.id }))} columns={ROW_COLUMNS} empty={`No clamp-value sweep in this run: ${SWEEP_STEP} with sweep.clampValue.`}>
              <LineChart width={560} height={260} data={byClamp.data} margin={{ top: 8, right: 16, bottom: 16, left: 8 }}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="x" type="number" domain={['dataMin', 'dataMax']} fontSize={10} label={{ value: 'clamp value', position: 'insideBottom', offset: -8, fontSize: 10 }} />
                <YAxis domain={[0, 1]} fontSize={10} />
                <Tooltip />
                <Legend verticalAlign="top" />
                {byClamp.methods.map((m, i) => <Line key={m} dataKey={m} stroke={COLORS[i % COLORS.length]} isAnimationActive={false} />)}
              </LineChart>
            </ChartCard>
            <ChartCard api={api} title="Sweep: refusal rate vs K*" testId="results-sweep-k" name="sweep-kstar" manifest={manifest} rows={byK.rows.map((r) => ({ ...r, run: focus!.manifest.id }))} columns={ROW_COLUMNS} empty={`No K* sweep in this run: ${SWEEP_STEP} with sweep.kStar.`}>
              <LineChart width={560} height={260} data={byK.data} margin={{ top: 8, right: 16, bottom: 16, left: 8 }}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="x" type="number" domain={['dataMin', 'dataMax']} fontSize={10} />
                <YAxis domain={[0, 1]} fontSize={10} />
                <Tooltip />
                <Legend verticalAlign="top" />
                {byK.methods.map((m, i) => <Line key={m} dataKey={m} stroke={COLORS[i % COLORS.length]} isAnimationActive={false} />)}
              </LineChart>
            </ChartCard>
            <ChartCard api={api} title="Side effects: refusal on harmless prompts and CE per method" testId="results-side" name="side-effects" manifest={manifest} chart={false} rows={sideRows} columns={ROW_COLUMNS} empty={`No harmless evaluation in this run: ${EVAL_STEP} with a role "harmless" suite.`}>
              <table className="wb-table"><thead><tr><th>suite</th><th>method</th><th>setting</th><th>n</th><th>refusal [95% CI]</th><th>CE (nats/token) [95% CI]</th></tr></thead>
                <tbody>{sideRows.map((r, i) => <tr key={i}><td>{r.suite}</td><td>{r.method}</td><td>{setting(r)}</td><td>{r.n}</td><td>{ci(r)}</td><td>{r.ce === null ? '—' : `${fmt(r.ce, 3)}${r.ceCi ? ` [${fmt(r.ceCi[0], 3)}, ${fmt(r.ceCi[1], 3)}]` : ''}`}</td></tr>)}</tbody></table>
            </ChartCard>
            <ChartCard api={api} title="Induced refusal: global sets set to v on harmless prompts" testId="results-induced" name="induced" manifest={manifest} chart={false} rows={inducedRows} columns={ROW_COLUMNS} empty={`No induced-refusal rows: ${EVAL_STEP} with a harmless suite (its sets are set to each clamp value).`}>
              <table className="wb-table"><thead><tr><th>suite</th><th>method</th><th>v</th><th>K*</th><th>n</th><th>refusal [95% CI]</th></tr></thead>
                <tbody>{inducedRows.map((r, i) => <tr key={i}><td>{r.suite}</td><td>{r.method}</td><td>{r.clampValue}</td><td>{r.kStar}</td><td>{r.n}</td><td>{ci(r)}</td></tr>)}</tbody></table>
            </ChartCard>
            <ChartCard api={api} title="Jailbreak mechanism: suffix dampening of harm and refusal features" testId="results-suffix" name="suffix-analysis" manifest={manifest} chart={false} rows={suffix} columns={(['suite', 'goals', 'jailbroken', 'harmDrop', 'refusalDrop', 'topIncrement'] as const).map((k) => ({ key: k, header: k, value: (r: (typeof suffix)[number]) => r[k] }))} empty={`No suffix analysis: ${EVAL_STEP} with suffixAnalysis: true on a suffix suite.`}>
              <table className="wb-table"><thead><tr><th>suite</th><th>goals</th><th>jailbroken</th><th>harm drop</th><th>refusal drop</th><th>top words</th></tr></thead>
                <tbody>{suffix.map((s, i) => <tr key={i}><td>{s.suite}</td><td>{s.goals}</td><td>{s.jailbroken}</td><td>{s.harmDrop === null ? '—' : fmt(s.harmDrop, 3)}</td><td>{s.refusalDrop === null ? '—' : fmt(s.refusalDrop, 3)}</td><td>{s.topWords.slice(0, 8).map((w) => `${w.word} (${w.count})`).join(', ')}</td></tr>)}</tbody></table>
            </ChartCard>
          </div>
        </>
      )}
    </div>
  );
}

export default ResultsView;
