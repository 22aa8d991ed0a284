/**
 * View-model types for the workbench views, and the narrow API surface the views consume.
 *
 * The views are written against `ViewApi` (below), not directly against the shell's transport. Where the
 * shape of a stored result is not settled yet (discovery graph JSON, probe reports, category runs), the
 * view models here are lean and the `adapt*` functions turn the stored JSON into them, tolerantly: unknown
 * fields are ignored, missing optional ones default. Wiring a new backend shape is a change in one adapter.
 */

import type { SaeReleaseInfo, SaeReleaseLocation } from '../../../common/api';
import type { PromptSuite } from '../../../common/suites/schema';
import type { BuiltinSuiteEntry } from '../../../common/suites/builtin';

// ───────────────────────────── ids ─────────────────────────────

export interface FeatureRef {
  saeId?: string;
  layer: number;
  index: number;
}

/** `L{layer}/{index}` — the canonical short id of a feature. */
export function featureKey(f: { layer: number; index: number }): string {
  return `L${f.layer}/${f.index}`;
}

export function parseFeatureKey(key: string): FeatureRef | null {
  const m = /^\s*L?(\d+)\s*[/:,]\s*(\d+)\s*$/i.exec(key);
  if (!m) return null;
  return { layer: Number(m[1]), index: Number(m[2]) };
}

// ───────────────────────────── manifest ─────────────────────────────

/** The run manifest every export carries (model, SAEs, hashes, backend, versions, seeds, timings). */
export interface RunManifest {
  runId: string;
  kind?: string;
  createdAt?: string;
  model?: { name?: string; path?: string; hash?: string; architecture?: string; dtype?: string };
  saes?: Array<{ id?: string; layer?: number; path?: string; hash?: string; neuronpediaId?: string }>;
  inputs?: Array<{ name: string; hash?: string; n?: number }>;
  params?: Record<string, unknown>;
  seeds?: Record<string, number>;
  backend?: string;
  versions?: Record<string, string>;
  timings?: Record<string, number>;
  [extra: string]: unknown;
}

// ───────────────────────────── project ─────────────────────────────

export interface ProjectVM {
  name: string;
  path?: string;
  isDemo?: boolean;
  backend?: string;
  sources?: { model?: string; saes?: string[]; suites?: string[] };
}

// ───────────────────────────── suites ─────────────────────────────

export type PromptTag = 'harmful' | 'harmless' | 'adversarial';

/** A prompt suite stored in the project (common/suites PromptSuite), with its project-relative id (path). */
export interface StoredSuite {
  id: string;
  suite: PromptSuite;
}

/** A built-in suite (assets/suites/index.json): name, role, count, source, licence, citation, sha256. */
export type BuiltinSuiteVM = BuiltinSuiteEntry;

// ───────────────────────────── models & SAEs ─────────────────────────────

export interface ModelVM {
  path: string;
  name?: string;
  architecture: string;
  dtype: string;
  params: number;
  layers: number;
  dModel: number;
  vocab?: number;
  memoryBytes: number;
}

export interface SaeLayerVM {
  layer: number;
  saeId?: string;
  path?: string;
  format?: string;
  dSae: number;
  neuronpediaId?: string;
  /** Bytes the SAE needs resident. */
  bytes: number;
  /** Whether model + this SAE fit the memory budget (preflight). */
  fits: boolean;
}

export interface PreflightVM {
  budgetBytes: number;
  modelBytes: number;
  saes: SaeLayerVM[];
}

// ───────────────────────────── runs & jobs ─────────────────────────────

export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobVM {
  id: string;
  kind: string;
  status: JobStatus;
  stage?: string;
  /** 0..1 overall */
  fraction?: number;
  stages?: Array<{ name: string; fraction: number; status?: JobStatus }>;
  etaSeconds?: number;
  error?: string;
  runId?: string;
}

export interface RunSummaryVM {
  id: string;
  kind: string;
  status: JobStatus;
  createdAt: string;
  manifest: RunManifest;
}

export interface RateCellVM {
  method: string;
  suite: string;
  /** refusal rate on harmful prompts, jailbreak = 1 - refusal unless given */
  refusal: number;
  jailbreak?: number;
  n: number;
}

export interface RunResultsVM {
  runId: string;
  rates: RateCellVM[];
  harmlessRefusal?: RateCellVM[];
  sideEffects?: Array<{ method: string; ce: number; n?: number }>;
  manifest: RunManifest;
}

export type PipelineParams = Record<string, number | string | boolean>;

// ───────────────────────────── graph ─────────────────────────────

export type Role = 'harm' | 'refusal' | 'unlabelled';

export interface GraphNodeVM {
  id: string; // L{layer}/{index}
  layer: number;
  index: number;
  saeId?: string;
  attribution: number;
  role: Role;
  /** user's label, if any (overrides the id as the node text) */
  label?: string;
  /** user tag colour */
  tagColor?: string;
  cosine?: number;
  topTokens?: string[];
  topPositions?: unknown[];
  neuronpediaId?: string;
}

export interface GraphEdgeVM {
  id: string;
  source: string;
  target: string;
  weight: number;
  kind: string;
}

export interface GraphVM {
  runId: string;
  nodes: GraphNodeVM[];
  edges: GraphEdgeVM[];
  manifest: RunManifest;
}

// ───────────────────────────── features ─────────────────────────────

export interface FeatureAnnotationVM {
  label: string;
  notes: string;
  tags: string[];
}

export interface TokenActsVM {
  suite?: string;
  prompt?: string;
  tokens: string[];
  acts: number[];
}

export interface FeatureDetailVM extends FeatureRef {
  id: string;
  neuronpediaId?: string;
  cosine?: number;
  attributionBySuite: Array<{ suite: string; value: number }>;
  histogram: { edges: number[]; counts: number[] };
  contexts: TokenActsVM[];
  logitLens: { promoted: Array<{ token: string; value: number }>; suppressed: Array<{ token: string; value: number }> };
}

// ───────────────────────────── playground ─────────────────────────────

export interface PlaygroundRequestVM {
  prompt: string;
  features: FeatureRef[];
  mode: 'multiply' | 'value';
  amount: number;
  positions: 'all' | 'prompt' | 'generation';
  maxNewTokens: number;
}

export interface PlaygroundColumnVM {
  kind: 'base' | 'clamped' | 'ablated';
  text: string;
  tokens: string[];
  /** acts[f][t]: activation of the chosen feature f at token t */
  acts: number[][];
}

export interface PlaygroundResultVM {
  features: string[];
  columns: PlaygroundColumnVM[];
}

// ───────────────────────────── probes ─────────────────────────────

export interface ProbeLayerPointVM {
  layer: number;
  valAcc: number;
  oodAcc: number;
  valCi?: [number, number];
  oodCi?: [number, number];
}

export interface ProbeRowVM {
  name: string;
  features: string;
  layer: number | null;
  valAcc: number;
  oodAcc: number;
  oodAccCi: [number, number];
  balancedAcc?: number;
  auroc: number;
  f1?: number;
  perGroup?: Record<string, number>;
  perLayer?: ProbeLayerPointVM[];
}

export interface ProbeReportVM {
  runId: string;
  probes: ProbeRowVM[];
  manifest: RunManifest;
}

// ───────────────────────────── categories (issue 9) ─────────────────────────────

export interface CategoryInterventionVM {
  condition: string; // base | specific | common | union | transfer
  category: string;
  target?: string; // for transfer: category whose prompts
  refusalRate: number;
  n: number;
}

export interface CategoriesVM {
  runId: string;
  categories: string[];
  common: string[]; // feature keys
  specific: Record<string, string[]>;
  /** matrix[category][featureKey] = attribution (or 1/0 selection) */
  matrix: Record<string, Record<string, number>>;
  interventions: CategoryInterventionVM[];
  commonDropWhenSpecificClamped?: number;
  manifest: RunManifest;
}

// ───────────────────────────── exports ─────────────────────────────

export interface ExportRecordVM {
  name: string;
  path?: string;
  kind: string;
  runId?: string;
  createdAt?: string;
}

// ───────────────────────────── the API the views consume ─────────────────────────────

export type Unsubscribe = () => void;

/**
 * The calls the views make. Every method is optional at runtime so a view degrades to its empty state
 * (saying what to do next) when the shell does not provide a call yet.
 */
export interface ViewApi {
  getProject?(): Promise<ProjectVM | null>;
  openDemo?(): Promise<void>;
  openProject?(): Promise<void>;

  listSuites?(): Promise<StoredSuite[]>;
  /** Save (create when id is null); returns the stored id. */
  saveSuite?(id: string | null, suite: PromptSuite): Promise<string>;
  deleteSuite?(id: string): Promise<void>;
  /** The built-in suites shipped with the workbench. */
  listBuiltinSuites?(): Promise<BuiltinSuiteVM[]>;
  /** Copy a built-in suite into the project; the copy records the built-in's hash. */
  importBuiltinSuite?(name: string): Promise<StoredSuite>;
  /** Native file picker (desktop); the view falls back to an <input type=file>. */
  pickFile?(accept: string[]): Promise<{ name: string; text: string } | null>;

  chooseFolder?(kind: 'model' | 'sae'): Promise<string | null>;
  inspectModel?(folder?: string): Promise<ModelVM | null>;
  saePreflight?(folders?: string[]): Promise<PreflightVM | null>;
  /** SAE release registry and its lookup in the local HF cache (issue 15; main side, behind the API). */
  saeReleases?(): Promise<SaeReleaseInfo[]>;
  locateRelease?(q: { release: string; width?: string; l0?: number; saeId?: string }): Promise<SaeReleaseLocation>;

  listRuns?(): Promise<RunSummaryVM[]>;
  getRunResults?(runId: string): Promise<RunResultsVM | null>;
  startRun?(kind: string, params: PipelineParams): Promise<{ jobId: string }>;
  /** The pipeline a discovery run starts from (project pipeline.json, the demo's), for the form's initial values. */
  getPipelineBase?(): Promise<{ path: string | null; params: Record<string, unknown> } | null>;
  /** Write a pipeline file from the base + these params/suites and start the discovery step on it. */
  startDiscovery?(p: { params: Record<string, unknown>; suites: { harmful?: string; harmless?: string } }): Promise<{ jobId: string; pipeline: string }>;
  cancelJob?(jobId: string): Promise<void>;
  listJobs?(): Promise<JobVM[]>;
  onJob?(cb: (job: JobVM) => void): Unsubscribe;

  getGraph?(runId?: string): Promise<GraphVM | null>;

  getFeature?(ref: FeatureRef): Promise<FeatureDetailVM | null>;
  getAnnotations?(): Promise<Record<string, FeatureAnnotationVM>>;
  saveAnnotation?(key: string, a: FeatureAnnotationVM): Promise<void>;
  importNeuronpedia?(text: string): Promise<number>;

  runPlayground?(req: PlaygroundRequestVM): Promise<PlaygroundResultVM>;
  saveExample?(req: PlaygroundRequestVM, result: PlaygroundResultVM): Promise<void>;

  getProbeReport?(runId?: string): Promise<ProbeReportVM | null>;
  getCategories?(runId?: string): Promise<CategoriesVM | null>;

  /** Write an export into the project's exports/ folder; returns the path written. */
  writeExport?(name: string, data: string | Uint8Array): Promise<string>;
  /** Render an HTML report to PDF into exports/ (desktop app only; the server refuses with a reason). */
  writePdf?(name: string, html: string): Promise<string>;
  listExports?(): Promise<ExportRecordVM[]>;
}

/**
 * The prop type every view receives: the shell's `WorkbenchApi` (common/api.ts), or — in tests and
 * previews — a `ViewApi` directly. `toViewApi` (views/api.ts) is the single point that adapts one to the other.
 */
export type { WorkbenchApi as ShellApi } from '../../../common/api';
export type AnyApi = import('../../../common/api').WorkbenchApi | ViewApi;
export type WorkbenchApi = AnyApi;

// ───────────────────────────── adapters from stored JSON ─────────────────────────────

type Json = Record<string, unknown>;
const num = (v: unknown, d = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : d);

function asRole(v: unknown): Role {
  return v === 'harm' || v === 'refusal' ? v : 'unlabelled';
}

/**
 * Discovery graph JSON → GraphVM. Accepts nodes `{layer, index, attribution, role?, topPositions}` and edges
 * `{source, target, weight, kind}`, where source/target may be a node id string, a node position in the
 * nodes array, or a `[layer, index]` pair.
 */
export function adaptGraph(raw: unknown, runId = 'run', manifest?: RunManifest): GraphVM {
  const r = (raw ?? {}) as Json;
  const rawNodes = Array.isArray(r.nodes) ? (r.nodes as Json[]) : [];
  const nodes: GraphNodeVM[] = rawNodes.map((n) => {
    const layer = num(n.layer);
    const index = num(n.index ?? n.feature);
    return {
      id: featureKey({ layer, index }),
      layer,
      index,
      saeId: typeof n.saeId === 'string' ? n.saeId : undefined,
      attribution: num(n.attribution),
      role: asRole(n.role),
      label: typeof n.label === 'string' ? n.label : undefined,
      cosine: typeof n.cosine === 'number' ? n.cosine : undefined,
      topTokens: Array.isArray(n.topTokens) ? (n.topTokens as string[]) : undefined,
      topPositions: Array.isArray(n.topPositions) ? (n.topPositions as unknown[]) : undefined,
      neuronpediaId: typeof n.neuronpediaId === 'string' ? n.neuronpediaId : undefined,
    };
  });
  const endpoint = (e: unknown): string | null => {
    if (typeof e === 'string') return parseFeatureKey(e) ? featureKey(parseFeatureKey(e)!) : e;
    if (typeof e === 'number') return nodes[e]?.id ?? null;
    if (Array.isArray(e) && e.length === 2) return featureKey({ layer: num(e[0]), index: num(e[1]) });
    if (e && typeof e === 'object') {
      const o = e as Json;
      return featureKey({ layer: num(o.layer), index: num(o.index) });
    }
    return null;
  };
  const ids = new Set(nodes.map((n) => n.id));
  const rawEdges = Array.isArray(r.edges) ? (r.edges as Json[]) : [];
  const edges: GraphEdgeVM[] = [];
  for (const e of rawEdges) {
    const s = endpoint(e.source);
    const t = endpoint(e.target);
    if (!s || !t || !ids.has(s) || !ids.has(t)) continue;
    const kind = str(e.kind ?? e.method, 'gradient');
    edges.push({ id: `${s}->${t}:${kind}`, source: s, target: t, weight: num(e.weight), kind });
  }
  return { runId, nodes, edges, manifest: manifest ?? (r.manifest as RunManifest) ?? { runId } };
}

/** per_group: `{g: acc}` or `{g: {acc, n, lo, hi}}`; keys renamed by the report's groupNames. */
function perGroup(v: unknown, names?: Record<string, string>): Record<string, number> | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const out: Record<string, number> = {};
  for (const [g, x] of Object.entries(v as Json)) {
    const acc = typeof x === 'number' ? x : x && typeof x === 'object' ? (x as Json).acc : undefined;
    if (typeof acc === 'number') out[names?.[g] ?? g] = acc;
  }
  return Object.keys(out).length ? out : undefined;
}

/** Probe report JSON (probe-report.json, or the CLI's snake_case summary) → ProbeReportVM. */
export function adaptProbeReport(raw: unknown, runId = 'probes', manifest?: RunManifest): ProbeReportVM {
  const r = (raw ?? {}) as Json;
  const list = Array.isArray(r.probes) ? (r.probes as Json[]) : [];
  const ci = (v: unknown): [number, number] | undefined =>
    Array.isArray(v) && v.length === 2 ? [num(v[0]), num(v[1])] : undefined;
  const probes: ProbeRowVM[] = list.map((p) => ({
    name: str(p.name),
    features: str(p.features),
    layer: typeof p.layer === 'number' ? p.layer : null,
    valAcc: num(p.val_acc ?? p.valAcc),
    oodAcc: num(p.ood_acc ?? p.oodAcc),
    oodAccCi: ci(p.ood_acc_ci ?? p.oodAccCi) ?? [num(p.ood_acc), num(p.ood_acc)],
    balancedAcc: typeof (p.balanced_acc ?? p.balancedAcc) === 'number' ? num(p.balanced_acc ?? p.balancedAcc) : undefined,
    auroc: num(p.auroc),
    f1: typeof p.f1 === 'number' ? p.f1 : undefined,
    perGroup: perGroup(p.per_group ?? p.perGroup, ((r.manifest ?? {}) as Json).groupNames as Record<string, string> | undefined),
    perLayer: Array.isArray(p.per_layer ?? p.perLayer)
      ? ((p.per_layer ?? p.perLayer) as Json[]).map((q) => ({
          layer: num(q.layer),
          valAcc: num(q.val_acc ?? q.valAcc),
          oodAcc: num(q.ood_acc ?? q.oodAcc),
          valCi: ci(q.val_acc_ci ?? q.valCi),
          oodCi: ci(q.ood_acc_ci ?? q.oodCi),
        }))
      : undefined,
  }));
  return { runId, probes, manifest: manifest ?? (r.manifest as RunManifest) ?? { runId } };
}

/**
 * Discovery rates JSON → RunResultsVM. Accepts either `{refusal_rate: {method: x}, n}` (the CLI's last line,
 * one suite) or `{rates: [{method, suite, refusal, n}]}`, or `{rates: {method: {suite: {rate, n}}}}`.
 */
export function adaptRunResults(raw: unknown, runId: string, manifest?: RunManifest): RunResultsVM {
  const r = (raw ?? {}) as Json;
  const rates: RateCellVM[] = [];
  const harmless: RateCellVM[] = [];
  if (Array.isArray(r.rates)) {
    for (const c of r.rates as Json[]) {
      rates.push({
        method: str(c.method),
        suite: str(c.suite),
        refusal: num(c.refusal ?? c.refusal_rate ?? c.rate),
        jailbreak: typeof c.jailbreak === 'number' ? c.jailbreak : undefined,
        n: num(c.n),
      });
    }
  } else if (r.rates && typeof r.rates === 'object') {
    for (const [method, bySuite] of Object.entries(r.rates as Json)) {
      for (const [suite, cell] of Object.entries((bySuite ?? {}) as Json)) {
        const c = cell as Json;
        rates.push({ method, suite, refusal: num(c.rate ?? c.refusal), n: num(c.n) });
      }
    }
  } else if (r.refusal_rate && typeof r.refusal_rate === 'object') {
    // the discovery step's results.json: {refusal_rate, harmless_refusal_rate, jailbreak_rate, counts}
    const counts = (r.counts ?? {}) as Json;
    const n = num(r.n ?? counts.harmful);
    const suite = str(r.suite, 'harmful (held out)');
    const jb = (r.jailbreak_rate && typeof r.jailbreak_rate === 'object' ? r.jailbreak_rate : {}) as Json;
    for (const [method, v] of Object.entries(r.refusal_rate as Json))
      rates.push({ method, suite, refusal: num(v), jailbreak: typeof jb[method] === 'number' ? (jb[method] as number) : undefined, n });
    if (r.harmless_refusal_rate && typeof r.harmless_refusal_rate === 'object')
      for (const [method, v] of Object.entries(r.harmless_refusal_rate as Json))
        harmless.push({ method, suite: 'harmless', refusal: num(v), n: num(r.harmless_n ?? counts.evalHarmless, n) });
  }
  const side = Array.isArray(r.side_effects ?? r.sideEffects)
    ? ((r.side_effects ?? r.sideEffects) as Json[]).map((s) => ({ method: str(s.method), ce: num(s.ce), n: typeof s.n === 'number' ? s.n : undefined }))
    : undefined;
  return {
    runId,
    rates,
    harmlessRefusal: harmless.length ? harmless : undefined,
    sideEffects: side,
    manifest: manifest ?? (r.manifest as RunManifest) ?? { runId },
  };
}

/**
 * Categories JSON (the `categories --json` line, plus optional `matrix` and `interventions`) → CategoriesVM.
 */
export function adaptCategories(raw: unknown, runId = 'categories', manifest?: RunManifest): CategoriesVM {
  const r = (raw ?? {}) as Json;
  const sets = (r.sets ?? {}) as Json;
  const pairKey = (p: unknown): string =>
    Array.isArray(p) ? featureKey({ layer: num(p[0]), index: num(p[1]) }) : typeof p === 'string' ? p : featureKey(p as FeatureRef);
  const categories = Array.isArray(r.categories) ? (r.categories as unknown[]).map((c) => String(c)) : [];
  const commonRaw = Array.isArray(r.common) ? r.common : Array.isArray(sets.common) ? sets.common : [];
  const common = (commonRaw as unknown[]).map(pairKey);
  const specific: Record<string, string[]> = {};
  for (const [c, list] of Object.entries((r.specific ?? sets.specific ?? {}) as Json)) specific[c] = Array.isArray(list) ? list.map(pairKey) : [];
  const rows = Array.isArray(r.rows) ? (r.rows as Json[]) : [];
  let matrix: Record<string, Record<string, number>> = {};
  if (r.matrix && typeof r.matrix === 'object') matrix = r.matrix as Record<string, Record<string, number>>;
  else if (rows.some((row) => Array.isArray(row.kStar))) {
    // each category's K* with its selection score (mean attribution)
    for (const row of rows) {
      const m: Record<string, number> = (matrix[str(row.category)] = {});
      for (const f of (row.kStar as Json[]) ?? []) m[pairKey(f)] = num(f.score, 1);
    }
  } else {
    for (const c of categories) {
      matrix[c] = {};
      for (const k of common) matrix[c][k] = 1;
      for (const k of specific[c] ?? []) matrix[c][k] = 1;
    }
  }
  const interventions: CategoryInterventionVM[] = [];
  if (Array.isArray(r.interventions)) {
    for (const i of r.interventions as Json[])
      interventions.push({
        condition: str(i.condition),
        category: str(i.category),
        target: typeof i.target === 'string' ? i.target : undefined,
        refusalRate: num(i.refusal_rate ?? i.refusalRate),
        n: num(i.n),
      });
  } else if (rows.length) {
    for (const row of rows) {
      for (const [condition, rate] of Object.entries((row.refusal ?? {}) as Json)) {
        if (rate === null) continue; // not measured (an empty specific set), not a rate of 0
        const x = (rate ?? {}) as Json;
        interventions.push({ condition, category: str(row.category), refusalRate: num(x.rate), n: num(x.n) });
      }
    }
    for (const [a, byB] of Object.entries((r.transfer ?? {}) as Json))
      for (const [b, rate] of Object.entries((byB ?? {}) as Json)) {
        const x = (rate ?? {}) as Json;
        interventions.push({ condition: 'transfer', category: a, target: b, refusalRate: num(x.rate), n: num(x.n) });
      }
  } else if (r.refusal_rate && typeof r.refusal_rate === 'object') {
    const counts = (r.counts ?? {}) as Json;
    for (const [condition, v] of Object.entries(r.refusal_rate as Json))
      if (typeof v === 'number') interventions.push({ condition, category: 'all', refusalRate: v, n: num(counts[condition] ?? counts[condition.replace(/_mean$/, '')] ?? r.n) });
  }
  return {
    runId,
    categories,
    common,
    specific,
    matrix,
    interventions,
    commonDropWhenSpecificClamped:
      typeof r.common_drop_when_specific_clamped === 'number' ? r.common_drop_when_specific_clamped : undefined,
    manifest: manifest ?? (r.manifest as RunManifest) ?? { runId },
  };
}
