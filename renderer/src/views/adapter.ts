/**
 * Adapts the shell's `WorkbenchApi` (common/api.ts: projects, features, runs, files, jobs) to the calls
 * the views make (`ViewApi`). Results are the files a run's step declares (common/steps `outputs`: role →
 * file, kind, schemaVersion), read through their versioned readers (common/results): an older file is
 * upgraded, a file that does not parse is an error naming it — never a guessed layout.
 *
 *   runs/<id>/manifest.json            the run manifest (common/schemas/run.ts)
 *   runs/<id>/<declared outputs>       e.g. refusal.discover: results.json, graph.json, experiments.json
 *   suites/<slug>.json                 prompt suites (common/suites PromptSuite)
 *   exports/<name>                     everything the Export buttons write
 *
 * Work that computes (model inspection, SAE preflight, discovery, playground) starts a job by step name;
 * its small result is parsed with the step's `result` schema.
 */
import type { ApiEvent, JobInfo, RunManifest, WorkbenchApi as ShellApi } from '../../../common/api';
import type { PromptSuite } from '../../../common/suites/schema';
import type { JobStartRequest } from '../../../common/api';
import { isStepName, STEPS, type StepName, type StepParamsInput, type StepResult } from '../../../common/steps/index';
import { categoriesResults, featureDetailFile, featureGraph, probeReport, discoveryResults, readResultText, ResultFileError, type ResultDef, type StoredFeatureDetail } from '../../../common/results/index';
import { RunRefSchema } from '../../../common/steps/types';
import type { z } from 'zod';
import { featureKey, type JobVM, type ModelVM, type PlaygroundResultVM, type PreflightVM, type RunSummaryVM, type StoredSuite, type ViewApi } from './types';
import { categoriesVM, graphVM, probeReportVM, runResultsVM } from './viewmodels';

export function isShellApi(api: unknown): api is ShellApi {
  const a = api as Partial<ShellApi> | null;
  return !!a && typeof a === 'object' && typeof a.files === 'object' && typeof a.jobs === 'object' && typeof a.runs === 'object';
}

export function jobToVM(j: JobInfo): JobVM {
  // a step that keys its own run folder returns {runId, runDir, seconds}; the others' run is runs/<jobId>/
  const ref = RunRefSchema.safeParse(j.result);
  return {
    id: j.id,
    kind: j.step,
    status: j.status,
    stage: j.progress?.stage,
    fraction: j.progress?.fraction ?? undefined,
    etaSeconds: j.progress?.etaMs != null ? j.progress.etaMs / 1000 : undefined,
    error: j.error ?? undefined,
    runId: ref.success ? ref.data.runId : j.id,
  };
}

/** The file a step declares for `role` (common/steps outputs), with `{name}` placeholders filled from `vars`. */
export function declaredOutput(step: string, role: string, vars: Record<string, string | number> = {}): string | null {
  if (!isStepName(step)) return null;
  const o = STEPS[step].outputs.find((x) => x.role === role);
  return o ? o.file.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? `{${k}}`)) : null;
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'suite';
}

const BYTES: Record<string, number> = { float32: 4, fp32: 4, float16: 2, fp16: 2, bfloat16: 2, bf16: 2, int8: 1 };
export function estimateBytes(params: number, dtype: string): number {
  return params * (BYTES[dtype.toLowerCase()] ?? 4);
}

export function fromShellApi(api: ShellApi): ViewApi {
  const readJson = async (p: string): Promise<unknown> => JSON.parse(await api.files.readText({ path: p }));
  let stepsCache: Promise<string[]> | null = null;
  const inspected = new Map<string, Promise<StepResult<'model.inspect'>>>();
  const steps = () => (stepsCache ??= api.jobs.steps().then((s) => s.map((x) => x.name)).catch(() => []));
  /** The step when this build registers it (the contract names every step: common/steps). */
  const available = async <N extends StepName>(name: N): Promise<N | null> => ((await steps()).includes(name) ? name : null);

  const manifests = async (): Promise<RunManifest[]> => {
    const runs = await api.runs.list();
    const ms = await Promise.all(runs.map((r) => api.runs.get({ id: r.id }).catch(() => null)));
    return ms.filter((m): m is RunManifest => !!m).sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
  };
  /**
   * A run's declared output: the given run (it must be a run of `step`), else the newest succeeded run of
   * `step` that has the file. Null when there is none; a ResultFileError (naming the file) when it does not parse.
   */
  const readOutput = async <S extends z.ZodType>(
    step: StepName,
    role: string,
    def: ResultDef<S>,
    runId?: string,
    vars?: Record<string, string | number>,
  ): Promise<{ m: RunManifest; value: z.output<S> } | null> => {
    const file = declaredOutput(step, role, vars);
    if (!file) return null;
    const candidates = runId ? [await api.runs.get({ id: runId })] : (await manifests()).filter((m) => m.status === 'succeeded');
    const m = candidates.find((c) => c.step === step && c.outputs.includes(file));
    if (!m) return null;
    const p = `runs/${m.id}/${file}`;
    let text: string;
    try {
      text = await api.files.readText({ path: p });
    } catch (e) {
      throw new ResultFileError(p, `cannot read (${(e as Error).message})`);
    }
    return { m, value: readResultText(def, text, p) };
  };

  /** The pipeline a discovery starts from: the project's pipeline.json, the demo's, or one built from the demo source. */
  const basePipeline = async (): Promise<{ path: string | null; pipeline: Record<string, unknown> } | null> => {
    for (const p of ['pipeline.json', 'ui-pipeline.json', 'demo-pipeline.json']) {
      try {
        const v = (await readJson(p)) as Record<string, unknown>;
        if (v && v.kind === 'refusal-workbench/pipeline') return { path: p, pipeline: v };
      } catch {
        /* not there */
      }
    }
    const cur = await api.projects.current().catch(() => null);
    const demo = cur?.project.sources.find((s) => s.type === 'demo');
    if (!demo) return null;
    const d = demo.path.replace(/\/$/, '');
    // the same layout as the bundled demo pipeline (workers/refusal/project.ts demoPipeline)
    return {
      path: null,
      pipeline: {
        kind: 'refusal-workbench/pipeline',
        schemaVersion: 1,
        name: 'demo',
        model: `${d}/model`,
        saes: `${d}/saes`,
        suites: {
          harmful: { path: `${d}/suites/demo-harmful.json`, split: 'test' },
          harmless: { path: `${d}/suites/demo-harmless.json`, split: 'train', limit: 64 },
          evalHarmless: { path: `${d}/suites/demo-harmless.json`, split: 'test' },
        },
        params: { maxNewTokens: 12, sweepMaxLayerFrac: 1, laBatchSize: 16, genBatchSize: 64 },
      },
    };
  };

  /** Start a step and wait for its result (events, with polling as a fallback). */
  const runJob = async <N extends StepName>(step: N, params: StepParamsInput<N>): Promise<StepResult<N>> => {
    const raw = await waitJob(step, params);
    const r = STEPS[step].result.safeParse(raw);
    if (!r.success) {
      const i = r.error.issues[0];
      throw new Error(`the result of ${step} does not match its schema (common/steps): ${i?.path.join('.') || '(top level)'}: ${i?.message}`);
    }
    return r.data as StepResult<N>;
  };
  const waitJob = async <N extends StepName>(step: N, params: StepParamsInput<N>): Promise<unknown> => {
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
  };

  return {
    async getProject() {
      const p = await api.projects.current();
      if (!p) return null;
      const src = p.project.sources;
      const info = await api.app.info().catch(() => null);
      return {
        name: p.name,
        path: p.dir,
        isDemo: src.some((s) => s.type === 'demo'),
        backend: info?.backend,
        sources: {
          model: src.find((s) => s.type === 'model' || s.type === 'demo')?.path,
          saes: src.filter((s) => s.type === 'sae').map((s) => s.path),
          suites: src.filter((s) => s.type === 'suite').map((s) => s.path),
        },
      };
    },
    async openProject() {
      const recent = await api.projects.recent();
      const r = recent.find((x) => x.exists);
      if (r) await api.projects.open({ dir: r.dir });
    },

    async listSuites() {
      // suites/ of the project, suite sources, and the demo's bundled suites
      const cur = await api.projects.current().catch(() => null);
      const sources = cur?.project.sources ?? [];
      const paths = new Set<string>();
      const dirs = ['suites', ...sources.filter((s) => s.type === 'demo').map((s) => `${s.path.replace(/\/$/, '')}/suites`)];
      for (const d of dirs) {
        const files = await api.files.list({ path: d }).catch(() => []);
        for (const f of files) if (f.type === 'file' && f.name.endsWith('.json')) paths.add(f.path);
      }
      for (const s of sources) if (s.type === 'suite' && s.path.endsWith('.json') && !/^\/|^[A-Za-z]:/.test(s.path)) paths.add(s.path);
      const out: StoredSuite[] = [];
      for (const p of paths) {
        try {
          const s = (await readJson(p)) as PromptSuite;
          if (s && s.kind === 'prompt-suite') out.push({ id: p, suite: s });
        } catch {
          /* skip unreadable */
        }
      }
      return out;
    },
    // a shell from before the built-in suites has no `suites` group: the view then lists none
    listBuiltinSuites: async () => (api.suites ? api.suites.builtin() : []),
    async importBuiltinSuite(name) {
      const r = await api.suites.importBuiltin({ name });
      return { id: r.path, suite: (await readJson(r.path)) as PromptSuite };
    },
    async saveSuite(id, suite) {
      // bundled (sources/…) suites are saved as the project's own copy
      const p = id && !id.startsWith('sources/') ? id : `suites/${slug(suite.name)}.json`;
      await api.files.writeText({ path: p, text: JSON.stringify(suite, null, 2) + '\n' });
      const cur = await api.projects.current();
      if (cur && !cur.project.sources.some((s) => s.path === p)) await api.projects.addSource({ source: { type: 'suite', path: p, label: suite.name } });
      return p;
    },

    async chooseFolder() {
      return null; // no native picker in the API: the view asks for a path
    },
    async inspectModel(folderIn) {
      let folder = folderIn;
      if (!folder) {
        // the project's model source (or the demo's model); nothing to inspect → no job
        const cur = await api.projects.current().catch(() => null);
        const src = cur?.project.sources.find((s) => s.type === 'model') ?? cur?.project.sources.find((s) => s.type === 'demo');
        if (!src) return null;
        folder = src.type === 'demo' ? `${src.path.replace(/\/$/, '')}/model` : src.path;
      }
      const step = await available('model.inspect');
      if (!step) return null;
      // one inspection per folder per session: every job leaves a run folder behind
      let pending = inspected.get(folder);
      if (!pending) {
        pending = runJob(step, { folder }).catch((e: unknown) => {
          inspected.delete(folder!);
          throw e;
        });
        inspected.set(folder, pending);
      }
      const r = await pending;
      return {
        path: r.path,
        name: r.name,
        architecture: r.architecture,
        dtype: r.dtype,
        params: r.params,
        layers: r.layers,
        dModel: r.dModel,
        vocab: r.vocab,
        memoryBytes: r.memoryBytes,
      } satisfies ModelVM;
    },
    // an older shell (or a test double) may not serve the registry yet
    saeReleases: async () => ((api as Partial<ShellApi>).saes ? api.saes.releases() : []),
    locateRelease: (q) => api.saes.locate(q),
    async saePreflight(folders) {
      const step = await available('sae.preflight');
      if (!step) return null;
      const r = await runJob(step, folders ? { folders } : {});
      return { budgetBytes: r.budgetBytes, modelBytes: r.modelBytes, saes: r.saes } satisfies PreflightVM;
    },

    async listRuns() {
      const ms = await manifests();
      return ms.map(
        (m): RunSummaryVM => ({
          id: m.id,
          kind: m.step,
          status: m.status,
          createdAt: m.startedAt,
          manifest: m,
        }),
      );
    },
    async getRunResults(runId) {
      // a discovery run's rates; categories and probe runs have their own views
      const f = await readOutput('refusal.discover', 'results', discoveryResults, runId);
      return f ? runResultsVM(f.value, f.m) : null;
    },
    async startRun(kind, params) {
      if (!isStepName(kind)) throw new Error(`unknown step "${kind}"`);
      const j = await api.jobs.start({ step: kind, params } as JobStartRequest);
      return { jobId: j.id };
    },
    async getPipelineBase() {
      const b = await basePipeline();
      return b ? { path: b.path, params: (b.pipeline.params ?? {}) as Record<string, unknown> } : null;
    },
    async startDiscovery({ params, suites }) {
      const b = await basePipeline();
      if (!b) throw new Error('No pipeline to start from: open the demo project, or put a pipeline.json (model, saes, suites) in the project folder.');
      const pl = { ...b.pipeline, params: { ...((b.pipeline.params ?? {}) as object), ...params } } as Record<string, unknown>;
      const s = { ...((pl.suites ?? {}) as Record<string, unknown>) };
      if (suites.harmful) s.harmful = suites.harmful;
      if (suites.harmless) s.harmless = suites.harmless;
      pl.suites = s;
      // next to the base, so its relative paths still resolve
      const dir = b.path && b.path.includes('/') ? b.path.slice(0, b.path.lastIndexOf('/') + 1) : '';
      const file = `${dir}ui-pipeline.json`;
      await api.files.writeText({ path: file, text: JSON.stringify(pl, null, 2) + '\n' });
      const step = 'refusal.discover' as const;
      const j = await api.jobs.start({ step, params: { pipeline: file }, title: 'Discovery' });
      return { jobId: j.id, pipeline: file };
    },
    async cancelJob(id) {
      await api.jobs.cancel({ id });
    },
    async listJobs() {
      return (await api.jobs.list()).map(jobToVM);
    },
    onJob(cb) {
      return api.onEvent((e) => {
        if (e.type === 'job') cb(jobToVM(e.job));
      });
    },

    async getGraph(runId) {
      const f = await readOutput('refusal.discover', 'graph', featureGraph, runId);
      return f ? graphVM(f.value, f.m) : null;
    },

    async getFeature(ref) {
      const key = featureKey(ref);
      // a page computed before (features.detail leaves feature-L{layer}-{index}.json in its run), else compute it
      const stored = await readOutput('features.detail', 'feature', featureDetailFile, undefined, { layer: ref.layer, index: ref.index });
      let detail: StoredFeatureDetail | null = stored?.value.features[key] ?? null;
      if (!detail) {
        const step = await available('features.detail');
        if (step) detail = await runJob(step, { layer: ref.layer, index: ref.index, ...(ref.saeId ? { saeId: ref.saeId } : {}) }).catch(() => null);
      }
      const g = await readOutput('refusal.discover', 'graph', featureGraph);
      const node = g?.value.nodes.find((n) => n.id === key);
      if (!detail && !node) return null;
      return {
        ...ref,
        id: key,
        cosine: detail?.cosine,
        neuronpediaId: detail?.neuronpediaId ?? node?.neuronpediaId ?? undefined,
        attributionBySuite: detail?.attributionBySuite ?? (node ? [{ suite: 'discovery', value: node.attribution }] : []),
        histogram: { edges: detail?.histogram.edges ?? [], counts: detail?.histogram.counts ?? [] },
        contexts: (detail?.contexts ?? []).map((c) => ({ suite: typeof c.suite === 'string' ? c.suite : undefined, prompt: typeof c.prompt === 'string' ? c.prompt : undefined, tokens: c.tokens, acts: c.acts })),
        logitLens: detail?.logitLens ?? { promoted: [], suppressed: [] },
      };
    },
    async getAnnotations() {
      const all = await api.features.list();
      const out: Record<string, { label: string; notes: string; tags: string[] }> = {};
      for (const [k, v] of Object.entries(all)) out[k] = { label: v.label ?? '', notes: v.notes ?? '', tags: v.tags ?? [] };
      return out;
    },
    async saveAnnotation(key, a) {
      await api.features.update({ id: key, label: a.label, notes: a.notes, tags: a.tags });
    },

    async runPlayground(req) {
      const step = await available('refusal.playground');
      if (!step) throw new Error('No playground step is registered in this build (expected a step named like "refusal.playground").');
      return (await runJob(step, { ...req, features: req.features.map((f): [number, number] => [f.layer, f.index]) })) satisfies PlaygroundResultVM;
    },
    async saveExample(req, result) {
      const name = `examples/${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
      await api.files.writeText({ path: name, text: JSON.stringify({ kind: 'refusal-workbench/example', schemaVersion: 1, request: req, result }, null, 2) });
    },

    async getProbeReport(runId) {
      const f = await readOutput('refusal.probe', 'report', probeReport, runId);
      return f ? probeReportVM(f.value, f.m) : null;
    },
    async getCategories(runId) {
      const f = await readOutput('refusal.categories', 'results', categoriesResults, runId);
      return f ? categoriesVM(f.value, f.m) : null;
    },

    async writeExport(name, data) {
      if (typeof data !== 'string') {
        let s = '';
        for (let i = 0; i < data.length; i++) s += String.fromCharCode(data[i]);
        const r = await api.files.writeBase64({ path: `exports/${name}`, base64: btoa(s) });
        return r.path;
      }
      const r = await api.files.writeText({ path: `exports/${name}`, text: data });
      return r.path;
    },
    async writePdf(name, html) {
      return (await api.files.writePdf({ path: `exports/${name}`, html })).path;
    },
    async listExports() {
      const files = await api.files.list({ path: 'exports' }).catch(() => []);
      return files.filter((f) => f.type === 'file').map((f) => ({ name: f.name, path: f.path, kind: f.name.split('.').slice(1).join('.') }));
    },
  };
}
