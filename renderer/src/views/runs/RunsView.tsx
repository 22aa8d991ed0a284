import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, Tooltip, XAxis, YAxis } from 'recharts';
import type { JobVM, PipelineParams, RunResultsVM, RunSummaryVM, StoredSuite, WorkbenchApi } from '../types';
import { toViewApi } from '../api';
import { useAction, useAsync } from '../../components/useAsync';
import { EmptyState } from '../../components/EmptyState';
import { ProgressBar } from '../../components/ProgressBar';
import { Card, ErrorLine, ViewHeader } from '../../components/Section';
import { navigate, selectRun } from '../../components/nav';
import { fmt, pct, stableStringify } from '../../export/format';
import { saveExport } from '../../export/save';
import { toCsv, toJsonExport } from '../../export/table';
import { reportToHtml, reportToMarkdown, runReport } from '../../export/reports';
import { serializeSvgElement } from '../../export/svg';
import { CategoriesView } from '../categories/CategoriesView';
import { DISCOVERY_PARAMS, DISCOVERY_STAGES, DISCOVERY_STEP, defaultParams, formFromPipelineParams, toPipeline, validateParams, type ParamSpec } from './pipeline';

const SUITE_COLORS = ['#1c7ed6', '#e8590c', '#2b8a3e', '#7048e8', '#c2255c', '#868e96', '#0b7285', '#e67700'];

export function RunsView({ api: rawApi }: { api: WorkbenchApi }) {
  const api = useMemo(() => toViewApi(rawApi), [rawApi]);
  const runsQ = useAsync<RunSummaryVM[]>(() => api.listRuns?.() ?? Promise.resolve([]), [api]);
  const reloadRuns = runsQ.reload; // stable (useCallback); named so the effect below depends on it alone
  const suitesQ = useAsync<StoredSuite[]>(() => api.listSuites?.() ?? Promise.resolve([]), [api]);
  const baseQ = useAsync(() => api.getPipelineBase?.().catch(() => null) ?? Promise.resolve(null), [api]);
  const baseForm = useMemo(() => formFromPipelineParams(baseQ.data?.params), [baseQ.data]);
  const [params, setParams] = useState<PipelineParams>(() => defaultParams());
  useEffect(() => setParams(baseForm), [baseForm]);
  const errors = validateParams(params);
  const [job, setJob] = useState<JobVM | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const start = useAction();

  useEffect(() => {
    if (!api.onJob) return;
    return api.onJob((j) => {
      setJob((cur) => (cur && cur.id === j.id ? j : cur));
      if (j.status === 'succeeded' || j.status === 'failed' || j.status === 'cancelled') reloadRuns();
    });
  }, [api, reloadRuns]);
  // fallback polling when the API has no events
  useEffect(() => {
    if (!job || api.onJob || !api.listJobs || job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled') return;
    const t = setInterval(async () => {
      const all = await api.listJobs!();
      const j = all.find((x) => x.id === job.id);
      if (j) setJob(j);
    }, 500);
    return () => clearInterval(t);
  }, [api, job]);

  // inspections (model.inspect …) are jobs too, but not results worth listing
  const runs = useMemo(() => (runsQ.data ?? []).filter((r) => !/inspect|preflight|^demo\./i.test(r.kind)), [runsQ.data]);
  useEffect(() => {
    if (runs.length) setSelected((s) => s ?? (runs.find((r) => /discover/i.test(r.kind) && r.status === 'succeeded') ?? runs[0]).id);
  }, [runs]);

  const onStart = () =>
    start.run(async () => {
      let jobId: string;
      if (api.startDiscovery) jobId = (await api.startDiscovery(toPipeline(params))).jobId;
      else if (api.startRun) jobId = (await api.startRun(DISCOVERY_STEP, params)).jobId;
      else throw new Error('Starting runs needs an open project.');
      setJob({ id: jobId, kind: DISCOVERY_STEP, status: 'queued', fraction: 0 });
    });
  const running = job && (job.status === 'queued' || job.status === 'running');

  return (
    <div className="wb-view wb-runs" data-testid="view-runs">
      <ViewHeader title="Runs" />
      <div className="wb-runs-form">
          <Card title="Discovery pipeline" testId="run-form">
          <PipelineForm specs={DISCOVERY_PARAMS} params={params} errors={errors} suites={suitesQ.data ?? []} onChange={setParams} />
          <div className="wb-actions">
            <button data-testid="run-start" className="primary" onClick={onStart} disabled={start.busy || !!running || Object.keys(errors).length > 0}>
              Start discovery
            </button>
            <button onClick={() => setParams(baseForm)} title="The values of the pipeline this run starts from">
              Reset
            </button>
            <button onClick={() => setParams(defaultParams())} title="The workbench's defaults (the paper's, with its defects fixed)">
              Defaults
            </button>
            {baseQ.data && <span className="wb-muted">from {baseQ.data.path ?? 'the bundled demo pipeline'}</span>}
          </div>
          <ErrorLine error={start.error} />
          {job && <JobProgress job={job} onCancel={() => api.cancelJob?.(job.id)} />}
        </Card>
      </div>
      <div className="wb-runs-grid">
        <Card title="History" testId="run-history">
          {runsQ.loading && runsQ.slow && <ProgressBar label="Loading runs" />}
          {runs.length === 0 ? (
            !runsQ.loading && <EmptyState title="No runs yet" hint="Set the parameters above and start discovery — on the demo it takes about two minutes." />
          ) : (
            <table className="wb-table" data-testid="run-history-table">
              <thead>
                <tr>
                  <th>run</th>
                  <th>step</th>
                  <th>status</th>
                  <th>started</th>
                  <th>backend</th>
                </tr>
              </thead>
              <tbody>
                {runs.map((r) => (
                  <tr key={r.id} className={r.id === selected ? 'active' : ''}>
                    <td>
                      <button className="wb-link wb-mono" data-testid={`run-row-${r.id}`} onClick={() => setSelected(r.id)}>
                        {r.id}
                      </button>
                    </td>
                    <td>{r.kind}</td>
                    <td>
                      <span className={`wb-status ${r.status}`}>{r.status}</span>
                    </td>
                    <td className="wb-nowrap">{r.createdAt.replace("T", " ").slice(0, 16)}</td>
                    <td>{r.manifest.backend ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
  {selected && <RunResults key={selected} api={api} run={runs.find((r) => r.id === selected)} runId={selected} />}
      </div>
      <CategoriesView api={api} embedded />
    </div>
  );
}

function PipelineForm({
  specs,
  params,
  errors,
  suites,
  onChange,
}: {
  specs: ParamSpec[];
  params: PipelineParams;
  errors: Record<string, string>;
  suites: StoredSuite[];
  onChange: (p: PipelineParams) => void;
}) {
  const groups = Array.from(new Set(specs.map((s) => s.group)));
  const set = (k: string, v: number | string | boolean) => onChange({ ...params, [k]: v });
  return (
    <div className="wb-form">
      {groups.map((g) => (
        <fieldset key={g}>
          <legend>{g}</legend>
          {specs
            .filter((s) => s.group === g)
            .map((s) => {
              const id = `param-${s.key}`;
              const v = params[s.key];
              let input;
              if (s.type === 'bool') input = <input id={id} data-testid={id} type="checkbox" checked={Boolean(v)} onChange={(e) => set(s.key, e.target.checked)} />;
              else if (s.type === 'select')
                input = (
                  <select id={id} data-testid={id} value={String(v)} onChange={(e) => set(s.key, e.target.value)}>
                    {s.options!.map((o) => (
                      <option key={o}>{o}</option>
                    ))}
                  </select>
                );
              else if (s.type === 'suite')
                input = (
                  <select id={id} data-testid={id} value={String(v)} onChange={(e) => set(s.key, e.target.value)}>
                    <option value="">(project default / demo)</option>
                    {suites.map((su) => (
                      <option key={su.id} value={su.id}>
                        {su.suite.name} ({su.suite.items.length})
                      </option>
                    ))}
                  </select>
                );
              else if (s.type === 'number')
                input = (
                  <input
                    id={id}
                    data-testid={id}
                    type="number"
                    min={s.min}
                    max={s.max}
                    step={s.step ?? 1}
                    value={Number.isFinite(v as number) ? (v as number) : ''}
                    onChange={(e) => set(s.key, e.target.value === '' ? NaN : Number(e.target.value))}
                  />
                );
              else input = <input id={id} data-testid={id} value={String(v)} onChange={(e) => set(s.key, e.target.value)} />;
              return (
                <div className="wb-param" key={s.key}>
                  <label htmlFor={id}>{s.label}</label>
                  {input}
                  <small className={errors[s.key] ? 'wb-error' : 'wb-hint'}>
                    {errors[s.key] ? errors[s.key] : s.hint} {s.default !== '' && !errors[s.key] ? <span className="wb-muted">(default {String(s.default)})</span> : null}
                  </small>
                </div>
              );
            })}
        </fieldset>
      ))}
    </div>
  );
}

export function JobProgress({ job, onCancel }: { job: JobVM; onCancel: () => void }) {
  const active = job.status === 'queued' || job.status === 'running';
  const stages = job.stages ?? DISCOVERY_STAGES.map((name) => ({ name, fraction: 0, status: undefined }));
  const curIdx = job.stage ? stages.findIndex((s) => s.name === job.stage) : -1;
  return (
    <div className="wb-job" data-testid="run-progress" data-status={job.status}>
      <div className="wb-row">
        <strong>{job.status}</strong>
        {job.stage && <span>· {job.stage}</span>}
        {job.etaSeconds !== undefined && active && <span className="wb-muted">· about {Math.ceil(job.etaSeconds)} s left</span>}
        {active && (
          <button data-testid="run-cancel" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
      <ProgressBar value={job.fraction} label={job.stage ?? 'progress'} testId="run-progress-bar" />
      <ol className="wb-stages">
        {stages.map((s, i) => {
          const state = s.status ?? (job.status === 'succeeded' || i < curIdx ? 'succeeded' : i === curIdx ? 'running' : 'queued');
          return (
            <li key={s.name} className={`wb-stage ${state}`}>
              <span>{s.name}</span>
              {job.stages ? <ProgressBar value={s.fraction} /> : null}
            </li>
          );
        })}
      </ol>
      {job.error && <ErrorLine error={job.error} />}
      {job.status === 'succeeded' && (
        <button data-testid="run-open-graph" onClick={() => { selectRun(job.runId); navigate('graph'); }}>
          Open the graph
        </button>
      )}
    </div>
  );
}

export function ratesTable(res: RunResultsVM) {
  const methods = Array.from(new Set(res.rates.map((r) => r.method)));
  const suites = Array.from(new Set(res.rates.map((r) => r.suite)));
  const cell = (m: string, s: string) => res.rates.find((r) => r.method === m && r.suite === s);
  return { methods, suites, cell };
}

function RunResults({ api, run, runId }: { api: ReturnType<typeof toViewApi>; run?: RunSummaryVM; runId: string }) {
  const q = useAsync<RunResultsVM | null>(() => api.getRunResults?.(runId) ?? Promise.resolve(null), [api, runId]);
  const chartRef = useRef<HTMLDivElement>(null);
  const act = useAction();
  const [saved, setSaved] = useState<string>();
  const res = q.data;
  const manifest = res?.manifest ?? run?.manifest;

  const exportWith = useCallback(
    (name: string, make: () => string) =>
      act.run(async () => {
        setSaved(await saveExport(api, name, make()));
      }),
    [act, api],
  );

  if (q.loading) return q.slow ? <ProgressBar label="Loading results" /> : null;
  const { methods, suites, cell } = res ? ratesTable(res) : { methods: [], suites: [], cell: () => undefined };
  const chartData = methods.map((m) => {
    const row: Record<string, string | number> = { method: m };
    for (const s of suites) row[s] = cell(m, s)?.refusal ?? 0;
    return row;
  });

  return (
    <Card
      title={`Results — ${runId}`}
      testId="run-results"
      actions={
        res ? (
          <>
            <button data-testid="export-results-csv" onClick={() => exportWith(`${runId}-rates.csv`, () => toCsv(res.rates, [
              { key: 'suite', header: 'suite', value: (r) => r.suite },
              { key: 'method', header: 'method', value: (r) => r.method },
              { key: 'refusal', header: 'refusal_rate', value: (r) => r.refusal },
              { key: 'jailbreak', header: 'jailbreak_rate', value: (r) => r.jailbreak ?? 1 - r.refusal },
              { key: 'n', header: 'n', value: (r) => r.n },
            ], res.manifest))}>CSV</button>
            <button data-testid="export-results-json" onClick={() => exportWith(`${runId}-rates.json`, () => toJsonExport('refusal-workbench/rates', res.rates, res.manifest))}>JSON</button>
            <button data-testid="export-results-svg" onClick={() => {
              const svg = chartRef.current?.querySelector('svg.recharts-surface') as SVGSVGElement | null;
              if (svg) void exportWith(`${runId}-rates.svg`, () => serializeSvgElement(svg, res.manifest));
            }}>SVG</button>
            <button data-testid="export-run-report-md" onClick={() => exportWith(`${runId}-report.md`, () => reportToMarkdown(runReport(res)))}>Report .md</button>
            <button data-testid="export-run-report-html" onClick={() => exportWith(`${runId}-report.html`, () => reportToHtml(runReport(res)))}>Report .html</button>
            {api.writePdf && (
              <button data-testid="export-run-report-pdf" title="Desktop app: printed with Electron's printToPDF" onClick={() => act.run(async () => setSaved(await api.writePdf!(`${runId}-report.pdf`, reportToHtml(runReport(res)))))}>Report .pdf</button>
            )}
          </>
        ) : null
      }
    >
      <ErrorLine error={q.error ?? act.error} />
      {saved && <p className="wb-muted">Saved {saved}</p>}
      {!res || res.rates.length === 0 ? (
        <p className="wb-muted">This run stored no rates (it may be a different step, or it failed).</p>
      ) : (
        <>
          <table className="wb-table" data-testid="run-rates-table">
            <thead>
              <tr>
                <th>method</th>
                {suites.map((s) => (
                  <th key={s} colSpan={2}>
                    {s}
                  </th>
                ))}
              </tr>
              <tr>
                <th />
                {suites.map((s) => (
                  <Fragment2 key={s} />
                ))}
              </tr>
            </thead>
            <tbody>
              {methods.map((m) => (
                <tr key={m}>
                  <th>{m}</th>
                  {suites.map((s) => {
                    const c = cell(m, s);
                    return c ? (
                      <Cells key={s} refusal={c.refusal} jailbreak={c.jailbreak ?? 1 - c.refusal} n={c.n} />
                    ) : (
                      <td key={s} colSpan={2}>—</td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
          <div ref={chartRef} data-testid="run-rates-chart">
            <BarChart width={Math.max(360, 90 * methods.length + 120)} height={260} data={chartData} margin={{ top: 10, right: 10, bottom: 10, left: 10 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="method" fontSize={11} />
              <YAxis domain={[0, 1]} tickFormatter={(v: number) => pct(v, 0)} fontSize={11} />
              <Tooltip formatter={(v) => pct(Number(v))} />
              <Legend />
              {suites.map((s, i) => (
                <Bar key={s} dataKey={s} fill={SUITE_COLORS[i % SUITE_COLORS.length]} isAnimationActive={false} />
              ))}
            </BarChart>
          </div>
          {res.harmlessRefusal?.length ? (
            <p className="wb-muted">
              Harmless refusal: {res.harmlessRefusal.map((h) => `${h.method} ${pct(h.refusal)} (n=${h.n})`).join(' · ')}
            </p>
          ) : null}
          {res.sideEffects?.length ? (
            <p className="wb-muted">Side-effect CE: {res.sideEffects.map((s) => `${s.method} ${fmt(s.ce, 3)}`).join(' · ')}</p>
          ) : null}
        </>
      )}
      {manifest && (
        <details className="wb-manifest" data-testid="run-manifest">
          <summary>Manifest</summary>
          <pre>{stableStringify(manifest)}</pre>
        </details>
      )}
    </Card>
  );
}

function Fragment2() {
  return (
    <>
      <th className="wb-sub">refusal (n)</th>
      <th className="wb-sub">jailbreak</th>
    </>
  );
}

function Cells({ refusal, jailbreak, n }: { refusal: number; jailbreak: number; n: number }) {
  return (
    <>
      <td className="wb-num">
        {pct(refusal)} <span className="wb-muted">(n={n})</span>
      </td>
      <td className="wb-num">{pct(jailbreak)}</td>
    </>
  );
}

export default RunsView;
