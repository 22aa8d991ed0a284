/**
 * Stored results the Results, Features and Playground views read straight from the project through the
 * shell API, each parsed with its zod schema (common/results/*): a file that does not parse is reported,
 * never guessed at.
 */
import type { ApiEvent, JobInfo, JobStartRequest, RunManifest, WorkbenchApi } from '../../../../common/api';
import type { KnownStepName, StepParamsInput } from '../../../../common/steps/index';
import { ExperimentTableSchema, type ExperimentTable } from '../../../../common/results/experiments';
import { DashboardFeatureFileSchema, DashboardIndexSchema, type DashboardIndex, type FeatureDashboardFile } from '../../../../common/results/dashboard';

export interface ExperimentRun {
  manifest: RunManifest;
  table: ExperimentTable;
}

async function manifests(api: WorkbenchApi): Promise<RunManifest[]> {
  const runs = await api.runs.list();
  const ms = await Promise.all(runs.map((r) => api.runs.get({ id: r.id }).catch(() => null)));
  return ms.filter((m): m is RunManifest => !!m && m.status === 'succeeded').sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
}

/** Succeeded runs with an experiment table (experiments.json), newest first; `errors` names files that did not parse. */
export async function experimentRuns(api: WorkbenchApi): Promise<{ runs: ExperimentRun[]; errors: string[] }> {
  const out: ExperimentRun[] = [];
  const errors: string[] = [];
  for (const m of await manifests(api)) {
    if (!m.outputs.includes('experiments.json')) continue;
    const p = `runs/${m.id}/experiments.json`;
    try {
      const r = ExperimentTableSchema.safeParse(JSON.parse(await api.files.readText({ path: p })));
      if (r.success) out.push({ manifest: m, table: r.data });
      else errors.push(`${p}: ${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}`);
    } catch (e) {
      errors.push(`${p}: ${(e as Error).message}`);
    }
  }
  return { runs: out, errors };
}

/** The newest feature-dashboard scan: its index and run id. */
export async function latestDashboard(api: WorkbenchApi): Promise<{ runId: string; index: DashboardIndex } | null> {
  for (const m of await manifests(api)) {
    if (m.step !== 'features.dashboard') continue;
    try {
      const r = DashboardIndexSchema.safeParse(JSON.parse(await api.files.readText({ path: `runs/${m.id}/dashboard/index.json` })));
      if (r.success) return { runId: m.id, index: r.data };
    } catch {
      /* not there */
    }
  }
  return null;
}

export async function dashboardFeature(api: WorkbenchApi, runId: string, file: string): Promise<FeatureDashboardFile> {
  const p = `runs/${runId}/${file}`;
  const r = DashboardFeatureFileSchema.safeParse(JSON.parse(await api.files.readText({ path: p })));
  if (!r.success) throw new Error(`${p} is not a feature dashboard: ${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}`);
  return r.data.feature;
}

/** Start a step and resolve with its result when it succeeds (events, with polling as a fallback). */
export async function runStep<N extends KnownStepName>(api: WorkbenchApi, step: N, params: StepParamsInput<N>): Promise<unknown> {
  const job = await api.jobs.start({ step, params } as JobStartRequest);
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (j: JobInfo) => {
      if (done || j.id !== job.id) return;
      if (j.status === 'succeeded') resolve(j.result);
      else if (j.status === 'failed' || j.status === 'cancelled') reject(new Error(j.error ?? j.status));
      else return;
      done = true;
      off();
      clearInterval(t);
    };
    const off = api.onEvent((e: ApiEvent) => e.type === 'job' && finish(e.job));
    const t = setInterval(() => api.jobs.get({ id: job.id }).then(finish, () => undefined), 500);
  });
}
