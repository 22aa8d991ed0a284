/**
 * Adapts the shell's `WorkbenchApi` (common/api.ts: projects, features, runs, files, jobs) to the calls
 * the views make (`ViewApi`). Results are stored files in the project, found through each run's manifest:
 *
 *   runs/<id>/manifest.json            step, params, status, outputs, versions, seed, backend, timings
 *   runs/<id>/<graph*.json>            discovery graph: nodes {layer,index,attribution,role?,topPositions}, edges
 *   runs/<id>/<results|rates*.json>    rates per method × suite with n
 *   runs/<id>/<feature*.json>          per-feature details (cosine, contexts, logit lens, histogram)
 *   runs/<id>/<probe*.json>            probe report
 *   runs/<id>/<categor*.json>          categories run (issue 9)
 *   suites/<slug>.json                 prompt suites (common/suites PromptSuite)
 *   exports/<name>                     everything the Export buttons write
 *
 * Work that computes (model inspection, SAE preflight, discovery, playground) starts a job by step name,
 * chosen from `jobs.steps()` by pattern so the views keep working while step names settle.
 */
import type { ApiEvent, JobInfo, RunManifest as StoredManifest, WorkbenchApi as ShellApi } from '../../../common/api';
import type { PromptSuite } from '../../../common/suites/schema';
import type { JobStartRequest } from '../../../common/api';
import { isStepName, type StepName, type StepParamsInput } from '../../../common/steps/index';
import {
  adaptCategories,
  adaptGraph,
  adaptProbeReport,
  adaptRunResults,
  featureKey,
  type FeatureDetailVM,
  type JobVM,
  type ModelVM,
  type PlaygroundResultVM,
  type PreflightVM,
  type RunManifest,
  type RunSummaryVM,
  type StoredSuite,
  type ViewApi,
} from './types';

export function isShellApi(api: unknown): api is ShellApi {
  const a = api as Partial<ShellApi> | null;
  return !!a && typeof a === 'object' && typeof a.files === 'object' && typeof a.jobs === 'object' && typeof a.runs === 'object';
}

export function toViewManifest(m: StoredManifest | Record<string, unknown>): RunManifest {
  const s = m as Record<string, unknown>;
  return { ...s, runId: String(s.id ?? s.runId ?? 'run') } as RunManifest;
}

export function jobToVM(j: JobInfo): JobVM {
  const status = j.status === 'succeeded' ? 'done' : j.status;
  const r = j.result as Record<string, unknown> | null;
  return {
    id: j.id,
    kind: j.step,
    status,
    stage: j.progress?.stage,
    fraction: j.progress?.fraction ?? undefined,
    etaSeconds: j.progress?.etaMs != null ? j.progress.etaMs / 1000 : undefined,
    error: j.error ?? undefined,
    runId: r && typeof r.runId === 'string' ? r.runId : j.id,
    stages: Array.isArray(r?.stages) ? (r!.stages as JobVM['stages']) : undefined,
  };
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
  const inspected = new Map<string, Promise<unknown>>();
  const steps = () => (stepsCache ??= api.jobs.steps().then((s) => s.map((x) => x.name)).catch(() => []));
  /** The step when this build registers it (the contract names every step: common/steps). */
  const available = async <N extends StepName>(name: N): Promise<N | null> => ((await steps()).includes(name) ? name : null);

  const manifests = async (): Promise<StoredManifest[]> => {
    const runs = await api.runs.list();
    const ms = await Promise.all(runs.map((r) => api.runs.get({ id: r.id }).catch(() => null)));
    return ms.filter((m): m is StoredManifest => !!m).sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
  };
  /** Newest succeeded run (or the given one) with an output file matching `file`. */
  const findOutput = async (file: RegExp, runId?: string, stepRe?: RegExp): Promise<{ m: StoredManifest; path: string } | null> => {
    const ms = runId ? [await api.runs.get({ id: runId })] : await manifests();
    for (const m of ms) {
      if (m.status !== 'succeeded' && !runId) continue;
      if (stepRe && !runId && !stepRe.test(m.step)) continue;
      const out = m.outputs.find((o) => file.test(o));
      if (out) return { m, path: `runs/${m.id}/${out}` };
    }
    return null;
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
  const runJob = async <N extends StepName>(step: N, params: StepParamsInput<N>): Promise<unknown> => {
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
      const r = (await pending) as Record<string, unknown> | null;
      if (!r) return null;
      const params = Number(r.params ?? r.paramCount ?? 0);
      const dtype = String(r.dtype ?? 'float32');
      return {
        path: String(r.path ?? folder ?? ''),
        name: typeof r.name === 'string' ? r.name : undefined,
        architecture: String(r.architecture ?? r.arch ?? '?'),
        dtype,
        params,
        layers: Number(r.layers ?? r.nLayers ?? 0),
        dModel: Number(r.dModel ?? r.d_model ?? 0),
        vocab: typeof r.vocab === 'number' ? r.vocab : undefined,
        memoryBytes: Number(r.memoryBytes ?? estimateBytes(params, dtype)),
      } satisfies ModelVM;
    },
    // an older shell (or a test double) may not serve the registry yet
    saeReleases: async () => ((api as Partial<ShellApi>).saes ? api.saes.releases() : []),
    locateRelease: (q) => api.saes.locate(q),
    async saePreflight(folders) {
      const step = await available('sae.preflight');
      if (!step) return null;
      return (await runJob(step, folders ? { folders } : {})) as PreflightVM | null;
    },

    async listRuns() {
      const ms = await manifests();
      return ms.map(
        (m): RunSummaryVM => ({
          id: m.id,
          kind: m.step,
          status: m.status === 'succeeded' ? 'done' : m.status,
          createdAt: m.startedAt,
          manifest: toViewManifest(m),
        }),
      );
    },
    async getRunResults(runId) {
      const f = await findOutput(/(results|rates|summary|metrics)[^/]*\.json$/i, runId);
      // categories and probe runs have their own views
      if (!f || /categor|probe/i.test(f.m.step)) return null;
      return adaptRunResults(await readJson(f.path), f.m.id, toViewManifest(f.m));
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
      const f = (await findOutput(/(^|\/)graph\.json$/i, runId)) ?? (await findOutput(/graph(?!\.neuronpedia)[^/]*\.json$/i, runId));
      if (!f) return null;
      return adaptGraph(await readJson(f.path), f.m.id, toViewManifest(f.m));
    },

    async getFeature(ref) {
      const key = featureKey(ref);
      const f = await findOutput(/feature[^/]*\.json$/i);
      let detail: Partial<FeatureDetailVM> | null = null;
      if (f) {
        const all = (await readJson(f.path)) as Record<string, unknown>;
        const map = (all.features ?? all) as Record<string, Partial<FeatureDetailVM>>;
        detail = map[key] ?? null;
      }
      if (!detail) {
        // computed on demand by a worker step when one is registered (cosine, contexts, logit lens, histogram)
        const step = await available('features.detail');
        if (step) detail = ((await runJob(step, { layer: ref.layer, index: ref.index, ...(ref.saeId ? { saeId: ref.saeId } : {}) }).catch(() => null)) ?? null) as Partial<FeatureDetailVM> | null;
      }
      const g = (await findOutput(/(^|\/)graph\.json$/i)) ?? (await findOutput(/graph(?!\.neuronpedia)[^/]*\.json$/i));
      const node = g ? adaptGraph(await readJson(g.path), g.m.id).nodes.find((n) => n.id === key) : undefined;
      if (!detail && !node) return null;
      return {
        ...ref,
        id: key,
        cosine: detail?.cosine ?? node?.cosine,
        neuronpediaId: detail?.neuronpediaId ?? node?.neuronpediaId,
        attributionBySuite: detail?.attributionBySuite ?? (node ? [{ suite: 'discovery', value: node.attribution }] : []),
        histogram: detail?.histogram ?? { edges: [], counts: [] },
        contexts: detail?.contexts ?? [],
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
      return (await runJob(step, { ...req, features: req.features.map((f) => [f.layer, f.index]) })) as PlaygroundResultVM;
    },
    async saveExample(req, result) {
      const name = `examples/${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
      await api.files.writeText({ path: name, text: JSON.stringify({ kind: 'refusal-workbench/example', schemaVersion: 1, request: req, result }, null, 2) });
    },

    async getProbeReport(runId) {
      const f = (await findOutput(/(^|\/)probe-report\.json$/i, runId)) ?? (await findOutput(/probe[^/]*\.json$/i, runId));
      if (!f) return null;
      return adaptProbeReport(await readJson(f.path), f.m.id, toViewManifest(f.m));
    },
    async getCategories(runId) {
      const f = (await findOutput(/categor[^/]*\.json$/i, runId)) ?? (await findOutput(/(^|\/)results\.json$/i, runId, /categor/i));
      if (!f) return null;
      return adaptCategories(await readJson(f.path), f.m.id, toViewManifest(f.m));
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
