/**
 * Where the playground, feature-detail and preflight steps get their model, SAEs, suites and refusal direction:
 *
 *  1. an explicit pipeline file (params.pipeline), with the direction of the newest discovery run on the same model;
 *  2. the newest succeeded discovery run of the project (runs/<id>/manifest.json, step 'refusal.discover', with
 *     steps/direction.json + steps/layer.json): its pipeline's model/SAEs/suites, directions[layer], its ablation sites;
 *  3. the project's pipeline.json / ui-pipeline.json / demo-pipeline.json;
 *  4. the project's `demo` source (sources/demo), else the bundled demo (RW_DEMO_DIR or assets/demo), whose
 *     refusal_direction.json is ablated at resid_pre/attn_out/mlp_out (as its description says).
 *
 * Loaded models and SAE sets are kept in the step context's cache (one worker lives across jobs).
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadModel, type ChatTokenizer, type Transformer } from '../model/index.js';
import type { ModelInfo } from '../model/loader.js';
import { SaeSet, type SaeSetSpec } from '../sae/set.js';
import { PipelineSchema, readPipeline, resolve, resolveSaeSpec, type Pipeline, type SuiteRef } from '../refusal/project.js';
import type { AblationSites } from '../refusal/hooks.js';
import { PromptItemSchema, type PromptItem } from '../../common/suites/schema.js';
import { seededShuffle } from '../../common/suites/ops.js';
import { checkpointValue } from '../refusal/runs.js';
import { z } from 'zod';
import { demoDir } from '../paths.js';



export function bundledDemoDir(): string {
  return demoDir();
}

export interface RefusalDirection {
  vector: Float32Array;
  /** Layer whose resid_post the direction was taken at (null when unknown). */
  layer: number | null;
  sites: AblationSites;
  /** Where it came from: a run id or a file. */
  from: string;
}

export interface ResolvedSource {
  kind: 'pipeline' | 'discovery' | 'demo';
  /** Description for logs and results. */
  label: string;
  modelDir: string;
  saes: SaeSetSpec;
  /** Suite files (prompt-suite JSON), for contexts and preflight prompts. */
  suites: Array<{ name: string; file: string; split?: 'train' | 'val' | 'test' }>;
  direction: RefusalDirection | null;
  /** The discovery run, when the source is one. */
  runId?: string;
  /** The discovery run's graph.json, when there is one. */
  graphFile?: string;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function suiteName(file: string): string {
  return path.basename(file).replace(/\.json$/i, '');
}

function pipelineSuites(pl: Pipeline, base: string): ResolvedSource['suites'] {
  const refs: SuiteRef[] = [pl.suites.harmful, pl.suites.harmless, pl.suites.evalHarmless, pl.suites.harmfulTrain].filter((r): r is SuiteRef => !!r);
  const seen = new Set<string>();
  const out: ResolvedSource['suites'] = [];
  for (const r of refs) {
    const file = resolve(base, typeof r === 'string' ? r : r.path);
    if (seen.has(file)) continue;
    seen.add(file);
    out.push({ name: suiteName(file), file });
  }
  return out;
}

function saeSpec(pl: Pipeline, base: string): SaeSetSpec {
  return resolveSaeSpec(base, pl.saes);
}

/** The project's own suites (suites/*.json), added to a source's suites. */
function projectSuites(projectDir: string | null): ResolvedSource['suites'] {
  if (!projectDir) return [];
  const dir = path.join(projectDir, 'suites');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => ({ name: suiteName(n), file: path.join(dir, n) }));
}

function mergeSuites(a: ResolvedSource['suites'], b: ResolvedSource['suites']): ResolvedSource['suites'] {
  const seen = new Set(a.map((s) => path.resolve(s.file)));
  return [...a, ...b.filter((s) => !seen.has(path.resolve(s.file)))];
}

interface DiscoveryRun {
  runId: string;
  dir: string;
  finishedAt: string;
  pipeline: Pipeline;
  base: string;
  sites: AblationSites;
}

/** Succeeded discovery runs with a stored direction, newest first. */
export function discoveryRuns(projectDir: string | null): DiscoveryRun[] {
  if (!projectDir) return [];
  const runs = path.join(projectDir, 'runs');
  if (!fs.existsSync(runs)) return [];
  const out: DiscoveryRun[] = [];
  for (const id of fs.readdirSync(runs)) {
    const dir = path.join(runs, id);
    const m = readJson(path.join(dir, 'manifest.json')) as Record<string, unknown> | undefined;
    if (!m || m.step !== 'refusal.discover' || m.status !== 'succeeded') continue;
    if (!fs.existsSync(path.join(dir, 'steps', 'direction.json')) || !fs.existsSync(path.join(dir, 'steps', 'layer.json'))) continue;
    const params = (m.params ?? {}) as Record<string, unknown>;
    if (!params.pipeline || typeof params.pipeline !== 'object') continue;
    let pipeline: Pipeline;
    const parsed = PipelineSchema.safeParse(params.pipeline);
    if (!parsed.success) continue;
    pipeline = parsed.data;
    // the pipeline file is the last input; relative paths in it resolve from its folder
    const inputs = Array.isArray(m.inputs) ? (m.inputs as Array<{ path?: string }>) : [];
    const plFile = [...inputs].reverse().find((i) => typeof i.path === 'string' && i.path.endsWith('.json') && !/suites?[/\\]/.test(i.path))?.path;
    const base = plFile ? path.dirname(plFile) : projectDir;
    const resolved = (params.resolved ?? {}) as Record<string, unknown>;
    out.push({
      runId: String(m.id ?? id),
      dir,
      finishedAt: String(m.finishedAt ?? m.startedAt ?? ''),
      pipeline,
      base,
      sites: resolved.ablationSites === 'arditi' ? 'arditi' : 'resid_post',
    });
  }
  return out.sort((a, b) => (a.finishedAt < b.finishedAt ? 1 : a.finishedAt > b.finishedAt ? -1 : 0));
}

function runDirection(run: DiscoveryRun): RefusalDirection | null {
  const d = checkpointValue(readJson(path.join(run.dir, 'steps', 'direction.json'))) as { directions?: number[][] } | undefined;
  const l = checkpointValue(readJson(path.join(run.dir, 'steps', 'layer.json'))) as { layer?: number } | undefined;
  if (!d?.directions || typeof l?.layer !== 'number' || !d.directions[l.layer]) return null;
  return { vector: Float32Array.from(d.directions[l.layer]!), layer: l.layer, sites: run.sites, from: `run ${run.runId}` };
}

function demoDirection(demoDir: string): RefusalDirection | null {
  const file = path.join(demoDir, 'refusal_direction.json');
  const j = readJson(file) as { direction?: number[]; hookPoint?: string } | undefined;
  if (!j?.direction) return null;
  const m = /blocks\.(\d+)\./.exec(j.hookPoint ?? '');
  return { vector: Float32Array.from(j.direction), layer: m ? Number(m[1]) : null, sites: 'arditi', from: file };
}

function demoSource(demoDir: string, projectDir: string | null): ResolvedSource {
  const suitesDir = path.join(demoDir, 'suites');
  const suites = fs.existsSync(suitesDir)
    ? fs
        .readdirSync(suitesDir)
        .filter((n) => n.endsWith('.json'))
        .sort()
        .map((n) => ({ name: suiteName(n), file: path.join(suitesDir, n) }))
    : [];
  return {
    kind: 'demo',
    label: `demo (${demoDir})`,
    modelDir: path.join(demoDir, 'model'),
    saes: path.join(demoDir, 'saes'),
    suites: mergeSuites(projectSuites(projectDir), suites),
    direction: demoDirection(demoDir),
  };
}

function projectDemoDir(projectDir: string | null): string | null {
  if (!projectDir) return null;
  const p = readJson(path.join(projectDir, 'project.json')) as { sources?: Array<{ type?: string; path?: string }> } | undefined;
  const src = p?.sources?.find((s) => s.type === 'demo' && typeof s.path === 'string');
  if (!src) return null;
  const dir = resolve(projectDir, src.path!);
  return fs.existsSync(path.join(dir, 'model', 'config.json')) ? dir : null;
}

function sameDir(a: string, b: string): boolean {
  return path.resolve(a) === path.resolve(b);
}

/** A direction for a given model folder: the newest discovery run on it, or the demo's when it is the demo model. */
function directionFor(modelDir: string, projectDir: string | null): RefusalDirection | null {
  for (const r of discoveryRuns(projectDir)) if (sameDir(resolve(r.base, r.pipeline.model), modelDir)) return runDirection(r);
  for (const d of [projectDemoDir(projectDir), bundledDemoDir()])
    if (d && sameDir(path.join(d, 'model'), modelDir)) return demoDirection(d);
  return null;
}

export function resolveSource(projectDir: string | null, opts: { pipeline?: string; demo?: boolean } = {}): ResolvedSource {
  if (!opts.demo) {
    if (opts.pipeline) {
      const file = resolve(projectDir ?? process.cwd(), opts.pipeline);
      const pl = readPipeline(file);
      const base = path.dirname(file);
      const modelDir = resolve(base, pl.model);
      return {
        kind: 'pipeline',
        label: `pipeline ${file}`,
        modelDir,
        saes: saeSpec(pl, base),
        suites: mergeSuites(projectSuites(projectDir), pipelineSuites(pl, base)),
        direction: directionFor(modelDir, projectDir),
      };
    }
    for (const run of discoveryRuns(projectDir)) {
      const modelDir = resolve(run.base, run.pipeline.model);
      if (!fs.existsSync(path.join(modelDir, 'config.json'))) continue;
      const graph = path.join(run.dir, 'graph.json');
      return {
        kind: 'discovery',
        label: `discovery run ${run.runId}`,
        modelDir,
        saes: saeSpec(run.pipeline, run.base),
        suites: mergeSuites(projectSuites(projectDir), pipelineSuites(run.pipeline, run.base)),
        direction: runDirection(run),
        runId: run.runId,
        graphFile: fs.existsSync(graph) ? graph : undefined,
      };
    }
    if (projectDir)
      for (const n of ['pipeline.json', 'ui-pipeline.json', 'demo-pipeline.json']) {
        const file = path.join(projectDir, n);
        if (!fs.existsSync(file)) continue;
        let pl: Pipeline;
        try {
          pl = readPipeline(file);
        } catch {
          continue;
        }
        const modelDir = resolve(projectDir, pl.model);
        return {
          kind: 'pipeline',
          label: `pipeline ${file}`,
          modelDir,
          saes: saeSpec(pl, projectDir),
          suites: mergeSuites(projectSuites(projectDir), pipelineSuites(pl, projectDir)),
          direction: directionFor(modelDir, projectDir),
        };
      }
  }
  const demo = projectDemoDir(projectDir) ?? bundledDemoDir();
  if (!fs.existsSync(path.join(demo, 'model', 'config.json')))
    throw new Error(`no model: run a discovery, add a pipeline.json to the project, or build the demo (npm run build:demo; looked in ${demo})`);
  return demoSource(demo, projectDir);
}

// ───────────────────────────── loading (cached per worker) ─────────────────────────────

export interface Loaded {
  model: Transformer;
  tokenizer: ChatTokenizer;
  info: ModelInfo;
  set: SaeSet;
  /** Token ids that end a generation (EOS ids + end of turn). */
  stopTokens: number[];
}

const CACHE_KEY = 'features/loaded';

/** Model + tokenizer + SAE set for a source, from the cache when the same folders are already loaded. */
export async function loadSource(src: ResolvedSource, cache: Map<string, unknown>): Promise<Loaded> {
  const key = JSON.stringify({ m: path.resolve(src.modelDir), s: src.saes });
  const hit = cache.get(CACHE_KEY) as { key: string; loaded: Loaded } | undefined;
  if (hit && hit.key === key) return hit.loaded;
  if (hit) disposeLoaded(cache);
  const { model, tokenizer, info } = await loadModel(src.modelDir);
  if (!tokenizer) {
    model.dispose();
    throw new Error(`${src.modelDir}: no tokenizer.json — chat formatting needs it`);
  }
  const set = SaeSet.open(src.saes);
  const stopTokens = [...new Set([...model.config.eosTokenIds, ...(tokenizer.endOfTurnId !== null ? [tokenizer.endOfTurnId] : [])])];
  const loaded: Loaded = { model, tokenizer, info, set, stopTokens };
  cache.set(CACHE_KEY, { key, loaded });
  return loaded;
}

/** Frees what loadSource cached (tests; a worker keeps it for the next job). */
export function disposeLoaded(cache: Map<string, unknown>): void {
  const hit = cache.get(CACHE_KEY) as { key: string; loaded: Loaded } | undefined;
  if (!hit) return;
  hit.loaded.set.close();
  hit.loaded.model.dispose();
  cache.delete(CACHE_KEY);
}

// ───────────────────────────── prompts ─────────────────────────────

export interface SampledPrompt {
  suite: string;
  id?: string;
  text: string;
}

/** Up to `perSuite` prompts of each suite (seeded shuffle; a split when given), in suite order. */
export function samplePrompts(suites: ResolvedSource['suites'], perSuite: number, seed = 0, split?: 'train' | 'val' | 'test'): SampledPrompt[] {
  const out: SampledPrompt[] = [];
  const Schema = z.object({ kind: z.literal('prompt-suite'), items: z.array(PromptItemSchema) });
  for (const s of suites) {
    const parsed = Schema.safeParse(readJson(s.file));
    if (!parsed.success) continue;
    let items: PromptItem[] = parsed.data.items;
    const sp = split ?? s.split;
    if (sp) {
      const f = items.filter((i) => i.split === sp);
      if (f.length) items = f;
    }
    items = seededShuffle(items, seed).slice(0, perSuite);
    for (const i of items) out.push({ suite: s.name, id: i.id, text: i.instruction });
  }
  return out;
}

export function argmax(row: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[b]!) b = i;
  return b;
}

export function numTensors(): number {
  return tf.memory().numTensors;
}

/**
 * Token strings for display: the vocabulary pieces with the word-start markers of SentencePiece (▁) and
 * byte-level BPE (Ġ space, Ċ newline) turned back into the characters they stand for.
 */
export function displayTokens(tok: { tokens(ids: number[]): string[] }, ids: number[]): string[] {
  return tok.tokens(ids).map((t) => (/[▁ĠĊ]/.test(t) ? t.replace(/▁|Ġ/g, ' ').replace(/Ċ/g, '\n') : t));
}
