/**
 * View-model types for the workbench views, and the narrow API surface the views consume.
 *
 * The views are written against `ViewApi` (below), not directly against the shell's transport. Stored
 * results are parsed with their versioned schemas (common/results) and turned into these view models by
 * views/viewmodels.ts; a file that does not parse is an error naming it, never a guessed layout.
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

/** The run manifest (runs/<id>/manifest.json) every export carries: the one declared in common/schemas/run.ts. */
export type { RunManifest } from '../../../common/schemas/run';
import type { RunManifest } from '../../../common/schemas/run';
import type { ProbeRunResult } from '../../../common/results/probe-report';

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

/** The job queue's statuses (common/schemas/job.ts): a finished job `succeeded`. */
export type { JobStatus } from '../../../common/schemas/job';
import type { JobStatus } from '../../../common/schemas/job';

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
  status: RunManifest['status'];
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
  kind: 'base' | 'clamped' | 'steered' | 'actadd' | 'ablated';
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
  /** The stored report as parsed (the Markdown/HTML report writers in common/results take it). */
  report: ProbeRunResult;
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
