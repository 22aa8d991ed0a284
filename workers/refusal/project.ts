/**
 * Pipeline files and project runs: `run PIPELINE.json --project DIR` loads the model, SAEs and suites the
 * file names, plans memory, runs discovery into DIR/runs/<id>/ and writes results + manifest atomically.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { currentBackend } from '../engine/backend.js';
import { inspectModel, loadModel } from '../model/index.js';
import { ChatTokenizer } from '../model/tokenizer.js';
import { SaeSet } from '../sae/set.js';
import { importSuite } from '../../common/suites/import.js';
import { BuiltinProvenanceSchema, PromptItemSchema, type BuiltinProvenance, type PromptItem } from '../../common/suites/schema.js';
import { parseBuiltinRef } from '../../common/suites/builtin.js';
import { resolveBuiltinSuite } from '../suites/builtin.js';
import { seededShuffle } from '../../common/suites/ops.js';
import { RUN_KIND, RUN_SCHEMA_VERSION } from '../../common/schemas/run.js';
import { codecFromTokenizer, makeLens, providerFromSaeSet } from './lens.js';
import { backendCapBytes, formatBytes, pickBatchSize, planMemory, type MemoryPlan } from './memory.js';
import { discover, DiscoveryParamsSchema, type DiscoveryResults } from './pipeline.js';
import { SuiteRefSchema, type SuiteRef } from '../../common/steps/discover.js';
import { checkResultForWrite, discoveryResults, experimentTable, featureGraph, type ResultDef } from '../../common/results/index.js';
import { listFiles, RunDir, sha256File, sha256Text, writeJsonAtomic, readJsonFile } from './runs.js';
import { suiteKey, suiteName, writeTextAtomic } from './experiments/load.js';
import { toNeuronpediaGraph } from './graph.js';
import { neuronpediaModel } from '../../common/neuronpedia.js';
import type { StepCtx } from './types.js';
import { JudgeSpecSchema, makeJudge, type JudgeSpec } from '../eval/judges/factory.js';
import { JudgeCache } from '../eval/judges/cache.js';
import { numericJudge } from '../eval/judges/types.js';
import type { RefusalJudge } from './generate.js';
import { FILE_LIMITS, readUserText } from '../engine/io/user-file.js';
import { evaluateEntrySchema, SweepSchema } from '../../common/steps/experiments.js';
import type { ExperimentTable } from '../../common/results/experiments.js';
import { runExperiments, sweepMaxKStar, tableCsv, type EvalSuite, type NamedJudge } from './experiments/run.js';
import { loadEvalSuites } from './experiments/load.js';

async function judgeFrom(spec: JudgeSpec, cache: JudgeCache, field: 'refused' | 'jailbroken'): Promise<RefusalJudge> {
  const j = await makeJudge(spec, {
    cache,
    env: process.env,
    loadClassifier: async (p) => {
      const m = await loadModel(p);
      if (!m.tokenizer) throw new Error(`${p}: the classifier judge needs a tokenizer`);
      return { model: m.model, tokenizer: m.tokenizer as never };
    },
  });
  return numericJudge(j, field);
}

export { SuiteRefSchema, type SuiteRef } from '../../common/steps/discover.js';

export const PipelineSchema = z.object({
  kind: z.literal('refusal-workbench/pipeline'),
  schemaVersion: z.literal(1),
  name: z.string().default('discovery'),
  model: z.string(),
  saes: z.union([z.string(), z.record(z.string(), z.string())]),
  suites: z.object({
    harmful: SuiteRefSchema,
    harmless: SuiteRefSchema,
    evalHarmless: SuiteRefSchema,
    harmfulTrain: SuiteRefSchema.optional(),
    /** A suite whose adversarial items name their vanilla item (`pair`) in the same suite. */
    pairs: SuiteRefSchema.optional(),
  }),
  params: DiscoveryParamsSchema.partial().default({}),
  /** Refusal judge (default: the paper's substring list) and an optional jailbreak judge (HarmBench-style). */
  judge: JudgeSpecSchema.optional(),
  jailbreakJudge: JudgeSpecSchema.optional(),
  /** Memory cap in bytes (default: the backend's limit). */
  memoryCapBytes: z.number().positive().max(2 ** 50).optional(),
  /** Issue 16: evaluation suites (harmful / harmless / adversarial / text / capability), each under every method. */
  evaluate: z.array(evaluateEntrySchema(SuiteRefSchema, JudgeSpecSchema)).max(64).optional(),
  /** Issue 16: settings swept in the same job (lists; an omitted key takes the run's own value). */
  sweep: SweepSchema.optional(),
});
export type Pipeline = z.infer<typeof PipelineSchema>;

/** A pipeline path: absolute as given, else relative to the pipeline file's folder. */
export function resolve(base: string, p: string): string {
  return path.isAbsolute(p) ? p : path.resolve(base, p);
}

export type SaeSpec = string | Record<number, string>;

/** A pipeline's `saes` (one folder, or layer → path) with its paths resolved. */
export function resolveSaeSpec(base: string, saes: string | Record<string, string>): SaeSpec {
  return typeof saes === 'string' ? resolve(base, saes) : Object.fromEntries(Object.entries(saes).map(([l, p]) => [Number(l), resolve(base, p)]));
}

/** Every file behind an SAE spec (for manifests). */
export function saeSpecFiles(spec: SaeSpec): string[] {
  return typeof spec === 'string' ? listFiles(spec) : Object.values(spec).flatMap((p) => listFiles(p));
}

/** A chat model for the method's steps: loaded, with the tokenizer (and chat template) they need. */
export async function loadChatModel(modelDir: string, purpose: string) {
  const m = await loadModel(modelDir);
  if (!m.tokenizer) throw new Error(`${modelDir}: no tokenizer.json — ${purpose} needs the chat template`);
  return { ...m, tokenizer: m.tokenizer };
}

export interface LoadedSuite {
  prompts: string[];
  items: PromptItem[];
  file: string;
  /** The built-in suite this is (a `builtin:` reference) or was copied from (an imported copy). */
  builtin?: BuiltinProvenance;
}

/** A run manifest's input entry for a suite: the file read, its hash, and the built-in it is, if any. */
export function suiteInput(s: Pick<LoadedSuite, 'file' | 'builtin'>): { path: string; sha256: string; builtin?: BuiltinProvenance } {
  return { path: s.file, sha256: sha256File(s.file), ...(s.builtin ? { builtin: s.builtin } : {}) };
}

export function loadSuitePrompts(base: string, ref: SuiteRef): LoadedSuite {
  const r = typeof ref === 'string' ? { path: ref } : ref;
  const builtinName = parseBuiltinRef(r.path);
  let file: string;
  let items: PromptItem[];
  let builtin: BuiltinProvenance | undefined;
  if (builtinName !== null) {
    const b = resolveBuiltinSuite(builtinName);
    ({ file, provenance: builtin } = b);
    items = b.suite.items;
  } else {
    file = resolve(base, r.path);
    ({ items, builtin } = readSuiteFile(file));
  }
  if ('split' in r && r.split) items = items.filter((i) => i.split === r.split);
  if ('tags' in r && r.tags) items = items.filter((i) => r.tags!.every((t) => i.tags.includes(t)));
  if ('excludeTags' in r && r.excludeTags) items = items.filter((i) => !r.excludeTags!.some((t) => i.tags.includes(t)));
  if ('seed' in r && r.seed !== undefined) items = seededShuffle(items, r.seed);
  if ('limit' in r && r.limit) items = items.slice(0, r.limit);
  if (!items.length) throw new Error(`${file}: no prompts left after the split/tag filters`);
  return { prompts: items.map((i) => i.instruction), items, file, ...(builtin ? { builtin } : {}) };
}

function readSuiteFile(file: string): { items: PromptItem[]; builtin?: BuiltinProvenance } {
  // Bounded: a regular file under the suite limit (a suite path of /dev/zero must not be read forever).
  const text = readUserText(file, { maxBytes: FILE_LIMITS.suite, what: 'prompt suite' });
  if (file.toLowerCase().endsWith('.json')) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new Error(`${file}: not JSON (${(e as Error).message})`);
    }
    if (Array.isArray(raw)) {
      // a plain array ([{instruction, category}] as in the Arditi splits, or strings): the importer's JSON format
      try {
        return { items: importSuite(text, path.basename(file)).items };
      } catch (e) {
        throw new Error(`${file}: ${(e as Error).message}`);
      }
    }
    // lenient: a suite's `pair` may name an item of another suite (vanilla/adversarial suites)
    const parsed = z
      .object({ kind: z.literal('prompt-suite'), items: z.array(PromptItemSchema), builtin: BuiltinProvenanceSchema.optional() })
      .safeParse(raw);
    if (!parsed.success) throw new Error(`${file}: not a prompt-suite file or a JSON array of prompts (${parsed.error.issues[0]?.message})`);
    return { items: parsed.data.items, ...(parsed.data.builtin ? { builtin: parsed.data.builtin } : {}) };
  }
  return { items: importSuite(text, path.basename(file)).items }; // CSV, JSONL, TXT, WildJailbreak TSV
}

/**
 * Vanilla/adversarial pairs. A row that carries its own vanilla text (the WildJailbreak train TSV's
 * `vanilla` column next to `adversarial`) pairs with that text — by the file's row structure, never by
 * matching text against other rows; otherwise an adversarial item's `pair` names another item of the
 * (unfiltered) suite. Warns when fewer than `minShare` of the adversarial items pair.
 */
export function loadPairs(
  base: string,
  ref: SuiteRef,
  opts: { minShare?: number } = {},
): { pairs: Array<{ vanilla: string; adversarial: string }>; file: string; warnings: string[]; builtin?: BuiltinProvenance } {
  const r = typeof ref === 'string' ? { path: ref } : ref;
  const all = loadSuitePrompts(base, { path: r.path });
  const byId = new Map(all.items.map((i) => [i.id, i]));
  const sel = loadSuitePrompts(base, { ...r, tags: [...(('tags' in r && r.tags) || []), 'adversarial'] });
  const fromRow = sel.items.filter((i) => i.meta?.vanilla && i.meta.vanilla.trim() !== '');
  const pairs = fromRow.length
    ? fromRow.map((i) => ({ vanilla: i.meta!.vanilla!.trim(), adversarial: i.instruction }))
    : sel.items.filter((i) => i.pair && byId.has(i.pair)).map((i) => ({ vanilla: byId.get(i.pair!)!.instruction, adversarial: i.instruction }));
  if (!pairs.length) throw new Error(`${all.file}: no adversarial items with a vanilla pair (a "vanilla" column in the row, or a "pair" id) in this suite`);
  const warnings: string[] = [];
  const share = pairs.length / sel.items.length;
  const min = opts.minShare ?? 0.5;
  if (share < min)
    warnings.push(`${all.file}: only ${pairs.length} of ${sel.items.length} adversarial items (${(100 * share).toFixed(1)}%) have a vanilla pair, below the ${(100 * min).toFixed(0)}% asked for (minPairShare)`);
  return { pairs, file: all.file, warnings, ...(all.builtin ? { builtin: all.builtin } : {}) };
}

export function readPipeline(file: string): Pipeline {
  return readJsonFile(file, PipelineSchema, 'a pipeline file');
}

/** The demo pipeline: held-out harmful test prompts, harmless train prompts for the direction, harmless test. */
export function demoPipeline(demoDirIn: string, params: Record<string, unknown> = {}): Pipeline {
  const demoDir = path.resolve(demoDirIn);
  return PipelineSchema.parse({
    kind: 'refusal-workbench/pipeline',
    schemaVersion: 1,
    name: 'demo',
    model: path.join(demoDir, 'model'),
    saes: path.join(demoDir, 'saes'),
    suites: {
      harmful: { path: path.join(demoDir, 'suites', 'demo-harmful.json'), split: 'test', limit: 80, seed: 1 },
      harmless: { path: path.join(demoDir, 'suites', 'demo-harmless.json'), split: 'train', limit: 80, seed: 2 },
      evalHarmless: { path: path.join(demoDir, 'suites', 'demo-harmless.json'), split: 'test', limit: 80, seed: 3 },
      pairs: { path: path.join(demoDir, 'suites', 'demo-adversarial.json'), split: 'test', limit: 60, seed: 4 },
    },
    // K* = 5 of the 2 × 10 pool: with K* = 20 the 2-layer demo's selection would be the whole pool
    params: { maxNewTokens: 6, sweepMaxLayerFrac: 1, laBatchSize: 16, genBatchSize: 80, sideEffects: true, kStar: 5, ...params },
  });
}

export interface RunOutcome {
  runId: string;
  runDir: string;
  results: DiscoveryResults;
  /** The experiment table, when the pipeline lists `evaluate` suites or a `sweep`. */
  experiments: ExperimentTable | null;
  seconds: number;
  memory: { plannedPeakBytes: number; capBytes: number; saesResident: boolean; peakResidentSaeLayers: number };
}

function versions(): Record<string, string> {
  const out: Record<string, string> = { node: process.version };
  try {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../package.json'), 'utf8'));
    out.workbench = pkg.version;
    out['@tensorflow/tfjs-core'] = pkg.dependencies?.['@tensorflow/tfjs-core'] ?? '';
  } catch {
    /* informational */
  }
  return out;
}

export async function runPipelineFile(
  pipelineFile: string,
  projectDir: string,
  ctx: StepCtx,
  opts: { runId?: string; fresh?: boolean; memoryCapBytes?: number | 'one-sae' } = {},
): Promise<RunOutcome> {
  const started = new Date();
  const t0 = performance.now();
  const pl = readPipeline(pipelineFile);
  const base = path.dirname(path.resolve(pipelineFile));
  const modelDir = resolve(base, pl.model);
  const saeSpec = resolveSaeSpec(base, pl.saes);
  const suites = {
    harmful: loadSuitePrompts(base, pl.suites.harmful),
    harmless: loadSuitePrompts(base, pl.suites.harmless),
    evalHarmless: loadSuitePrompts(base, pl.suites.evalHarmless),
    harmfulTrain: pl.suites.harmfulTrain ? loadSuitePrompts(base, pl.suites.harmfulTrain) : undefined,
    pairs: pl.suites.pairs ? loadPairs(base, pl.suites.pairs, { minShare: pl.params.minPairShare }) : undefined,
  };
  for (const w of suites.pairs?.warnings ?? []) ctx.log(`warning: ${w}`);
  const evalSuites = loadEvalSuites(base, pl);
  const inputsText = JSON.stringify({ pl, modelDir, saeSpec });
  const runId = opts.runId ?? `discover-${sha256Text(inputsText).slice(0, 12)}`;
  const runDirPath = path.join(projectDir, 'runs', runId);
  if (opts.fresh) fs.rmSync(runDirPath, { recursive: true, force: true });
  const run = new RunDir(runDirPath);
  ctx.onRunDir?.(runDirPath);
  const params = DiscoveryParamsSchema.parse(pl.params);

  const { model, tokenizer, info } = await loadChatModel(modelDir, 'discovery');
  const set = SaeSet.open(saeSpec);
  const backend = currentBackend();
  const saeLayerBytes = set.layers.map((l) => set.source(l).estimateBytes());
  const dSae = Math.max(...set.layers.map((l) => set.meta(l).dSae));
  const seqLen = Math.max(...suites.harmful.prompts.map((p) => tokenizer.encodeInstruction(p).length));
  const memIn = { config: info.config, modelBytes: info.weightBytes, saeLayerBytes, dSae, seqLen, newTokens: params.maxNewTokens };
  const shortcut = planMemory({ ...memIn, path: params.attributionPath }, params.laBatchSize);
  // 'one-sae': the model + one SAE layer + the planned activations, nothing more
  const capIn = opts.memoryCapBytes ?? pl.memoryCapBytes;
  const cap = capIn === 'one-sae' ? planMemory({ ...memIn, path: 'shortcut' }, params.laBatchSize).peakBytes : capIn ?? backendCapBytes(backend.name);
  const allResident = planMemory({ ...memIn, path: 'literal' }, params.laBatchSize);
  if (shortcut.peakBytes > cap)
    throw new Error(
      `planned peak ${formatBytes(shortcut.peakBytes)} (model ${formatBytes(info.weightBytes)} + one SAE ${formatBytes(Math.max(...saeLayerBytes))} + activations at batch ${params.laBatchSize}) exceeds the cap ${formatBytes(cap)}: lower laBatchSize or use a GPU backend`,
    );
  // keep every SAE resident only when that plan fits a known cap; with no known cap (GPU backends report
  // none here) stream one layer at a time unless the SAEs are small
  const saeTotal = saeLayerBytes.reduce((a, b) => a + b, 0);
  const saesResident =
    params.attributionPath === 'literal' || (Number.isFinite(cap) ? allResident.peakBytes <= cap : saeTotal <= 2 * 1024 ** 3);
  ctx.log(`memory: planned peak ${formatBytes(saesResident ? allResident.peakBytes : shortcut.peakBytes)} (cap ${formatBytes(cap)}; SAEs ${saesResident ? 'resident' : 'streamed one layer at a time'})`);
  const provider = providerFromSaeSet(set, { resident: saesResident });
  const lens = makeLens(model, provider, codecFromTokenizer(tokenizer));

  const manifestBase = {
    kind: RUN_KIND,
    schemaVersion: RUN_SCHEMA_VERSION,
    id: runId,
    step: 'refusal.discover',
    params: { pipeline: pl, resolved: params },
    inputs: [
      ...listFiles(modelDir).map((f) => ({ path: f, sha256: sha256File(f) })),
      ...saeSpecFiles(saeSpec).map((f) => ({ path: f, sha256: sha256File(f) })),
      ...[suites.harmful, suites.harmless, suites.evalHarmless, suites.harmfulTrain, suites.pairs]
        .filter((s): s is NonNullable<typeof s> => !!s)
        .map(suiteInput),
      ...[...new Map(evalSuites.map((s) => [s.file, s])).values()].map(suiteInput),
      { path: path.resolve(pipelineFile), sha256: sha256File(pipelineFile) },
    ],
    versions: versions(),
    seed: params.seed,
    backend: backend.description,
    startedAt: started.toISOString(),
  };
  const cache = await JudgeCache.open(path.join(projectDir, 'judge-cache.jsonl'));
  const judge = await judgeFrom(pl.judge ?? { type: 'substring' }, cache, 'refused');
  const jailbreakJudge = pl.jailbreakJudge ? await judgeFrom(pl.jailbreakJudge, cache, 'jailbroken') : undefined;
  try {
    const out = await discover(
      lens,
      {
        harmful: suites.harmful.prompts,
        harmless: suites.harmless.prompts,
        evalHarmless: suites.evalHarmless.prompts,
        harmfulTrain: suites.harmfulTrain?.prompts,
        pairs: suites.pairs?.pairs,
      },
      params,
      run,
      ctx,
      { judge, jailbreakJudge, maxKStar: sweepMaxKStar(params, pl.sweep) },
    );
    out.results.warnings.push(...(suites.pairs?.warnings ?? []));
    let experiments: ExperimentTable | null = null;
    if (evalSuites.length || pl.sweep) {
      const named = async (spec: JudgeSpec): Promise<NamedJudge> => {
        const field = spec.type === 'substring' ? 'refused' : 'jailbroken';
        const j = await judgeFrom(spec, cache, field);
        return { id: j.name, metric: field === 'refused' ? 'refusal' : 'jailbreak', judge: (items) => j.judge(items) };
      };
      const defaults: JudgeSpec[] = [pl.judge ?? { type: 'substring' }, ...(pl.jailbreakJudge ? [pl.jailbreakJudge] : [])];
      const suitesIn: EvalSuite[] = [];
      for (const s of evalSuites) {
        const specs = s.judges ?? defaults;
        const judges: NamedJudge[] = [];
        for (const spec of specs) judges.push(await named(spec));
        suitesIn.push({ ...s.suite, judges });
      }
      // the run's own harmful and harmless suites join the table when `evaluate` does not list them
      const mainKey = suiteKey(base, pl.suites.harmful);
      if (!suitesIn.some((s) => s.key === mainKey))
        suitesIn.unshift({ name: suiteName(base, pl.suites.harmful), role: 'harmful', items: suites.harmful.items, key: mainKey, judges: await Promise.all(defaults.map(named)), groupBy: [], scoring: 'loglik', suffixAnalysis: false });
      const harmlessKey = suiteKey(base, pl.suites.evalHarmless);
      if (!suitesIn.some((s) => s.role === 'harmless'))
        suitesIn.push({ name: suiteName(base, pl.suites.evalHarmless), role: 'harmless', items: suites.evalHarmless.items, key: harmlessKey, judges: await Promise.all(defaults.map(named)), groupBy: [], scoring: 'loglik', suffixAnalysis: false });
      experiments = await runExperiments(
        lens,
        { P: params, context: out.context, attribution: out.attribution, mainKey, suites: suitesIn, sweep: pl.sweep ?? {}, clampValue: out.results.clampValue },
        run,
        ctx,
      );
      for (const w of experiments.warnings) ctx.log(`warning: ${w}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    const checked = <T>(def: ResultDef, file: string, value: T): T => checkResultForWrite(def, value, path.join(runDirPath, file));
    run.write('results.json', checked(discoveryResults, 'results.json', { ...out.results, seconds, memory: { plannedPeakBytes: shortcut.peakBytes, capBytes: Number.isFinite(cap) ? cap : null, saesResident, peakResidentSaeLayers: provider.peakResident } }));
    run.write('generations.json', out.generations);
    const outputs = ['results.json', 'generations.json'];
    if (experiments) {
      run.write('experiments.json', checked(experimentTable, 'experiments.json', experiments));
      writeTextAtomic(path.join(runDirPath, 'experiments.csv'), tableCsv(experiments));
      outputs.push('experiments.json', 'experiments.csv');
    }
    if (out.graph) {
      run.write('graph.json', checked(featureGraph, 'graph.json', out.graph));
      run.write(
        'graph.neuronpedia.json',
        toNeuronpediaGraph(out.graph, { slug: runId, scan: neuronpediaModel(out.graph.nodes.find((n) => n.neuronpediaId)?.neuronpediaId) ?? path.basename(path.resolve(pl.model ?? '.')), prompt: suites.harmful.prompts[0], promptTokens: tokenizer.tokens(tokenizer.encodeInstruction(suites.harmful.prompts[0])) }),
      );
      outputs.push('graph.json', 'graph.neuronpedia.json');
    }
    run.write('manifest.json', {
      ...manifestBase,
      status: 'succeeded',
      outputs,
      finishedAt: new Date().toISOString(),
      timings: { ...out.results.timings, total: seconds },
    });
    return { runId, runDir: runDirPath, results: out.results, experiments, seconds, memory: { plannedPeakBytes: shortcut.peakBytes, capBytes: cap, saesResident, peakResidentSaeLayers: provider.peakResident } };
  } catch (e) {
    const cancelled = (e as Error).name === 'AbortError' || ctx.signal.aborted;
    writeJsonAtomic(path.join(runDirPath, 'manifest.json'), {
      ...manifestBase,
      status: cancelled ? 'cancelled' : 'failed',
      outputs: [],
      finishedAt: new Date().toISOString(),
      timings: { total: (performance.now() - t0) / 1000 },
      error: (e as Error).message,
    });
    throw e;
  } finally {
    set.close();
    model.dispose();
  }
}

export interface PipelinePlan {
  model: string;
  saeLayers: number;
  saeBytes: { total: number; maxLayer: number };
  seqLen: number;
  capBytes: number | null;
  shortcut: MemoryPlan;
  literal: MemoryPlan;
  /** Largest attribution batch that fits the cap on the shortcut path (null: not even 1). */
  fitBatch: number | null;
}

/** The memory plan of a pipeline from file headers only (no weights loaded). */
export function planPipelineFile(pipelineFile: string, capBytes?: number): PipelinePlan {
  const pl = readPipeline(pipelineFile);
  const base = path.dirname(path.resolve(pipelineFile));
  const modelDir = resolve(base, pl.model);
  const info = inspectModel(modelDir);
  const saeSpec = resolveSaeSpec(base, pl.saes);
  const set = SaeSet.open(saeSpec);
  try {
    const params = DiscoveryParamsSchema.parse(pl.params);
    const saeLayerBytes = set.layers.map((l) => set.source(l).estimateBytes());
    const dSae = Math.max(...set.layers.map((l) => set.meta(l).dSae));
    // every suite the run would read must load: a suite error fails the plan as it would fail the run
    const harmfulPrompts = loadSuitePrompts(base, pl.suites.harmful).prompts;
    loadSuitePrompts(base, pl.suites.harmless);
    loadSuitePrompts(base, pl.suites.evalHarmless);
    if (pl.suites.harmfulTrain) loadSuitePrompts(base, pl.suites.harmfulTrain);
    if (pl.suites.pairs) loadPairs(base, pl.suites.pairs);
    loadEvalSuites(base, pl);
    let seqLen = 64;
    let tok: ChatTokenizer | null = null;
    try {
      tok = ChatTokenizer.fromDir(modelDir);
    } catch {
      /* no tokenizer: assume 64 tokens */
    }
    if (tok) seqLen = Math.max(...harmfulPrompts.map((p) => tok!.encodeInstruction(p).length));
    const m = { config: info.config, modelBytes: info.weightBytes, saeLayerBytes, dSae, seqLen, newTokens: params.maxNewTokens };
    const cap = capBytes ?? pl.memoryCapBytes ?? null;
    return {
      model: modelDir,
      saeLayers: set.layers.length,
      saeBytes: { total: saeLayerBytes.reduce((a, b) => a + b, 0), maxLayer: Math.max(...saeLayerBytes) },
      seqLen,
      capBytes: cap,
      shortcut: planMemory({ ...m, path: 'shortcut' }, params.laBatchSize),
      literal: planMemory({ ...m, path: 'literal' }, params.laBatchSize),
      fitBatch: cap === null ? null : (pickBatchSize({ ...m, path: 'shortcut' }, cap)?.batch ?? null),
    };
  } finally {
    set.close();
  }
}

export function formatPlan(p: PipelinePlan): string {
  const part = (x: MemoryPlan) =>
    `${formatBytes(x.peakBytes)} (model ${formatBytes(x.parts.model)} + SAEs ${formatBytes(x.parts.saes)} + activations ${formatBytes(Math.max(x.parts.attribution, x.parts.generation))}) at batch ${x.batch}`;
  return [
    `model ${p.model}; ${p.saeLayers} SAE layers, ${formatBytes(p.saeBytes.total)} (largest ${formatBytes(p.saeBytes.maxLayer)}); prompts up to ${p.seqLen} tokens`,
    `shortcut path (model + one SAE): ${part(p.shortcut)}`,
    `literal splice (every SAE):      ${part(p.literal)}`,
    p.capBytes === null ? 'no cap given' : `cap ${formatBytes(p.capBytes)}: ${p.fitBatch ? `attribution batch ≤ ${p.fitBatch} fits` : 'does not fit even at batch 1'}`,
  ].join('\n');
}

export function tempProject(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rw-project-'));
}
