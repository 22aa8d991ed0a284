import { useMemo } from 'react';
import type { ProjectVM, RunSummaryVM, WorkbenchApi } from '../types';
import { toViewApi } from '../api';
import { useAsync } from '../../components/useAsync';
import { EmptyState } from '../../components/EmptyState';
import { ProgressBar } from '../../components/ProgressBar';
import { Card, ErrorLine, ViewHeader } from '../../components/Section';
import { navigate } from '../../components/nav';

export function ProjectView({ api: rawApi }: { api: WorkbenchApi }) {
  const api = useMemo(() => toViewApi(rawApi), [rawApi]);
  const q = useAsync<ProjectVM | null>(() => api.getProject?.() ?? Promise.resolve(null), [api]);
  const runsQ = useAsync<RunSummaryVM[]>(() => api.listRuns?.().catch(() => []) ?? Promise.resolve([]), [api]);
  const p = q.data;
  if (q.loading) return <div className="wb-view" data-testid="view-project">{q.slow && <ProgressBar label="Opening project" />}</div>;
  if (!p)
    return (
      <div className="wb-view" data-testid="view-project">
        <ViewHeader title="Project" />
        <ErrorLine error={q.error} />
        <EmptyState title="No project open — open a project folder, or use the demo" hint="A project is a folder: project.json, runs/, features.json and exports/. The demo bundles a tiny chat model that refuses harmful requests." testId="project-empty">
          {api.openDemo && <button onClick={() => api.openDemo!().then(q.reload)}>Open the demo</button>}
          {api.openProject && <button onClick={() => api.openProject!().then(q.reload)}>Open recent project</button>}
        </EmptyState>
      </div>
    );
  const runs = runsQ.data ?? [];
  const next = !p.sources?.model && !p.isDemo ? 'models' : runs.length === 0 ? 'runs' : 'graph';
  return (
    <div className="wb-view" data-testid="view-project">
      <ViewHeader title={p.name}>{p.isDemo && <span className="wb-badge">demo</span>}</ViewHeader>
      <div className="wb-cards">
        <Card title="Project" testId="project-info">
          <dl className="wb-dl">
            <dt>folder</dt>
            <dd className="wb-mono">{p.path ?? '—'}</dd>
            <dt>backend</dt>
            <dd>{p.backend ?? 'auto'}</dd>
            <dt>model</dt>
            <dd className="wb-mono">{p.sources?.model ?? '—'}</dd>
            <dt>SAEs</dt>
            <dd className="wb-mono">{p.sources?.saes?.length ? p.sources.saes.join(', ') : '—'}</dd>
            <dt>suites</dt>
            <dd className="wb-mono">{p.sources?.suites?.length ? p.sources.suites.join(', ') : '—'}</dd>
            <dt>runs</dt>
            <dd className="wb-num">{runs.length}</dd>
          </dl>
        </Card>
        <Card title="Next step">
          {next === 'models' && <p>Open a model and its SAEs. <button onClick={() => navigate('models')}>Models & SAEs</button></p>}
          {next === 'runs' && <p>Run the discovery pipeline. <button onClick={() => navigate('runs')}>Runs</button></p>}
          {next === 'graph' && <p>Explore the causal graph of the latest run (g). <button onClick={() => navigate('graph')}>Graph</button></p>}
        </Card>
      </div>
    </div>
  );
}

export default ProjectView;
