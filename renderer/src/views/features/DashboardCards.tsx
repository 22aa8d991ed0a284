/**
 * The dashboard-level part of a feature page (a `features.dashboard` scan): quantile-group examples with token
 * heatmaps (reply tokens marked), activation density, logit effects through the final norm, decoder-cosine
 * neighbours, co-activation with the refusal set. The files are parsed with common/results/dashboard.ts.
 */
import { useState } from 'react';
import { Bar, BarChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { WorkbenchApi } from '../../../../common/api';
import type { DashboardExample } from '../../../../common/results/dashboard';
import { useAction, useAsync } from '../../components/useAsync';
import { Card, ErrorLine } from '../../components/Section';
import { TokenHeatmap } from '../../components/TokenHeatmap';
import { ProgressBar } from '../../components/ProgressBar';
import { selectFeature } from '../../components/nav';
import { fmt } from '../../export/format';
import { dashboardFeature, latestDashboard, runStep } from '../results/data';

function Example({ e, max, testId }: { e: DashboardExample; max: number; testId: string }) {
  return (
    <div className="wb-context">
      <div className="wb-muted">
        {e.source} · max {fmt(e.max, 3)} at “{e.tokens[e.maxIndex]}”{e.responseStart < e.tokens.length ? ` · reply from token ${e.responseStart}` : ''}
      </div>
      <TokenHeatmap tokens={e.tokens} acts={e.acts} max={max} testId={testId} />
    </div>
  );
}

export function DashboardCards({ api, featureKey }: { api: WorkbenchApi; featureKey: string }) {
  const [nonce, setNonce] = useState(0);
  const q = useAsync(async () => {
    const d = await latestDashboard(api);
    const line = d?.index.features.find((f) => f.id === featureKey);
    if (!d || !line) return { scan: d, feature: null };
    return { scan: d, feature: await dashboardFeature(api, d.runId, line.file) };
  }, [api, featureKey, nonce]);
  const scan = useAction();
  const runScan = () =>
    scan.run(async () => {
      const prev = q.data?.scan?.index.features.map((f) => f.id) ?? [];
      await runStep(api, 'features.dashboard', { features: [...new Set([...prev, featureKey])] });
      setNonce((n) => n + 1);
    });
  const f = q.data?.feature;
  const button = (
    <button data-testid="feature-dashboard-scan" onClick={runScan} disabled={scan.busy}>
      {f ? 'Rescan corpus' : 'Scan corpus for this feature'}
    </button>
  );
  if (!f)
    return (
      <Card title="Dashboard" testId="feature-dashboard-empty">
        <p className="wb-muted">No dashboard for {featureKey} yet — the features.dashboard step scans the project's suites (prompt and reply tokens) for it.</p>
        {button}
        <ErrorLine error={scan.error ?? q.error} />
        {scan.busy && <ProgressBar label="Scanning the corpus" />}
      </Card>
    );
  const max = Math.max(1e-9, f.maxActivation);
  const corpus = q.data!.scan!.index.corpus;
  return (
    <div className="wb-cards" data-testid="feature-dashboard">
      <Card title="Activation density" testId="feature-density" actions={button}>
        <p>
          fires on <b data-testid="feature-density-fraction">{fmt(100 * f.density.fraction, 1)}%</b> of {f.density.tokens} tokens (log₁₀ {f.density.log10 === null ? '—' : fmt(f.density.log10, 2)}) · prompt{' '}
          {f.density.prompt.active}/{f.density.prompt.tokens} · reply {f.density.response.active}/{f.density.response.tokens} · max {fmt(f.maxActivation, 3)} · corpus {corpus.sequences} sequences from {corpus.sources.map((s) => s.name).join(', ')}
        </p>
        <BarChart width={360} height={150} data={f.histogram.counts.map((c, i) => ({ bin: fmt(f.histogram.edges[i] ?? i, 2), count: c }))} barCategoryGap={1}>
          <XAxis dataKey="bin" fontSize={9} />
          <YAxis fontSize={9} />
          <Tooltip />
          <Bar dataKey="count" fill="#e8590c" isAnimationActive={false} />
        </BarChart>
        <ErrorLine error={scan.error} />
        {scan.busy && <ProgressBar label="Scanning the corpus" />}
      </Card>
      <Card title="Logit effects (decoder row through the final norm · W_U)" testId="feature-logits">
        <div className="wb-two-col">
          {(['promoted', 'suppressed'] as const).map((k) => (
            <div key={k}>
              <h4>{k}</h4>
              <ol className="wb-token-list">
                {f.logits[k].map((t) => (
                  <li key={t.id}>
                    <code>{JSON.stringify(t.token)}</code> <span className="wb-num">{fmt(t.value, 3)}</span>
                  </li>
                ))}
              </ol>
            </div>
          ))}
        </div>
      </Card>
      <Card title="Nearest features (decoder cosine)" testId="feature-neighbours">
        <ol className="wb-token-list">
          {f.neighbours.map((n) => (
            <li key={n.id}>
              <button className="wb-link wb-mono" onClick={() => selectFeature(n.id)}>{n.id}</button> <span className="wb-num">{fmt(n.cosine, 3)}</span>
            </li>
          ))}
        </ol>
      </Card>
      <Card title="Co-activation with the refusal set" testId="feature-coactivation">
        {f.coactivation.length ? (
          <table className="wb-table">
            <thead><tr><th>feature</th><th>tokens both fire</th><th>Jaccard</th><th>P(other | this)</th></tr></thead>
            <tbody>{f.coactivation.map((c) => <tr key={c.id}><td className="wb-mono">{c.id}</td><td>{c.both}</td><td>{fmt(c.jaccard, 3)}</td><td>{fmt(c.pOtherGivenThis, 3)}</td></tr>)}</tbody>
          </table>
        ) : (
          <p className="wb-muted">No refusal set to compare with (run a discovery first).</p>
        )}
      </Card>
      <Card title="Top activations" testId="feature-top-examples">
        {f.top.map((e, i) => <Example key={e.seq} e={e} max={max} testId={`feature-top-${i}`} />)}
      </Card>
      <Card title="Quantile groups (activation intervals)" testId="feature-quantiles">
        {f.quantiles.map((g, gi) => (
          <div key={gi} className="wb-quantile" data-testid={`feature-quantile-${gi}`}>
            <h4>
              [{fmt(g.lo, 2)}, {fmt(g.hi, 2)}) · {fmt(100 * g.share, 1)}% of activations · {g.sequences} sequences
            </h4>
            {g.examples.map((e) => <Example key={e.seq} e={e} max={max} testId={`feature-q${gi}-${e.seq}`} />)}
          </div>
        ))}
      </Card>
    </div>
  );
}
