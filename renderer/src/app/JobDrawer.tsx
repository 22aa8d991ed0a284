import { useEffect, useState } from 'react';
import type { JobInfo, JobStartRequest, StepInfo, WorkbenchApi } from '../../../common/api';
import { formatEta, formatPct } from './format';

function JobRow({ api, job, onError }: { api: WorkbenchApi; job: JobInfo; onError(msg: string): void }) {
  const [showLog, setShowLog] = useState(false);
  const active = job.status === 'queued' || job.status === 'running';
  const pct = job.progress.fraction == null ? undefined : Math.round(job.progress.fraction * 100);
  return (
    <li className={`wb-job wb-job-${job.status}`} data-testid="job" data-job-id={job.id} data-status={job.status}>
      <div className="wb-row wb-between">
        <strong>{job.title}</strong>
        <span className={`wb-badge wb-badge-${job.status}`} data-testid="job-status">
          {job.status}
        </span>
      </div>
      <div
        className={`wb-jobbar${pct === undefined && active ? ' indeterminate' : ''}`}
        role="progressbar"
        aria-label={`${job.title} progress`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        data-testid="job-progress"
      >
        <div className="wb-jobbar-fill" style={{ width: `${pct ?? 0}%` }} />
      </div>
      <div className="wb-row wb-between wb-muted">
        <span data-testid="job-stage">
          {job.progress.stage} {formatPct(job.progress.fraction)}
        </span>
        <span data-testid="job-eta">{active ? formatEta(job.progress.etaMs) : ''}</span>
      </div>
      {job.error && job.status === 'failed' && <p className="wb-error">{job.error}</p>}
      <div className="wb-row">
        {active && (
          <button
            data-testid="job-cancel"
            disabled={job.cancelRequested}
            onClick={() => api.jobs.cancel({ id: job.id }).catch((e: Error) => onError(e.message))}
          >
            {job.cancelRequested ? 'Cancelling…' : 'Cancel'}
          </button>
        )}
        <button className="wb-link" onClick={() => setShowLog((s) => !s)} aria-expanded={showLog}>
          {showLog ? 'Hide log' : 'Log'}
        </button>
      </div>
      {showLog && (
        <pre className="wb-log" data-testid="job-log">
          {job.log.join('\n')}
        </pre>
      )}
    </li>
  );
}

export function JobDrawer({
  api,
  jobs,
  onClose,
  onError,
}: {
  api: WorkbenchApi;
  jobs: JobInfo[];
  onClose(): void;
  onError(msg: string): void;
}) {
  const [steps, setSteps] = useState<StepInfo[]>([]);
  const [step, setStep] = useState('');
  const [params, setParams] = useState('{}');
  const [perm, setPerm] = useState<string>(() => (typeof Notification !== 'undefined' ? Notification.permission : 'unsupported'));

  useEffect(() => {
    api.jobs.steps().then((list) => {
      setSteps(list);
      setStep((cur) => cur || (list[0]?.name ?? ''));
    }, () => undefined);
  }, [api]);

  const start = async () => {
    let p: Record<string, unknown>;
    try {
      p = params.trim() ? (JSON.parse(params) as Record<string, unknown>) : {};
    } catch {
      onError('Parameters must be JSON, e.g. {"n": 100}');
      return;
    }
    try {
      // a step picked from the list with hand-written JSON params: the API checks them against its schema
      await api.jobs.start({ step, params: p } as JobStartRequest);
    } catch (e) {
      onError((e as Error).message);
    }
  };

  return (
    <aside className="wb-drawer" data-testid="job-drawer" aria-label="Jobs">
      <div className="wb-row wb-between">
        <h2>Jobs</h2>
        <button className="wb-link" onClick={onClose} aria-label="Close jobs">
          ✕
        </button>
      </div>
      <form
        className="wb-start"
        onSubmit={(e) => {
          e.preventDefault();
          void start();
        }}
      >
        <select aria-label="Step" value={step} onChange={(e) => setStep(e.target.value)} data-testid="step-select">
          {steps.map((s) => (
            <option key={s.name} value={s.name} title={s.description}>
              {s.title} ({s.name})
            </option>
          ))}
        </select>
        <input aria-label="Parameters (JSON)" className="wb-grow wb-mono" value={params} onChange={(e) => setParams(e.target.value)} data-testid="step-params" />
        <button type="submit" data-testid="start-job">
          Start
        </button>
      </form>
      {api.transport !== 'ipc' && perm === 'default' && (
        <button
          className="wb-link"
          data-testid="enable-notifications"
          onClick={() => void Notification.requestPermission().then(setPerm, () => undefined)}
        >
          Notify me when long jobs finish
        </button>
      )}
      {jobs.length === 0 ? (
        <p className="wb-muted" data-testid="no-jobs">
          No jobs yet. Runs you start appear here with their progress.
        </p>
      ) : (
        <ul className="wb-jobs">
          {jobs.map((j) => (
            <JobRow key={j.id} api={api} job={j} onError={onError} />
          ))}
        </ul>
      )}
      {jobs.some((j) => j.status !== 'queued' && j.status !== 'running') && (
        <button className="wb-link" onClick={() => api.jobs.clearFinished().catch(() => undefined)}>
          Clear finished
        </button>
      )}
    </aside>
  );
}
