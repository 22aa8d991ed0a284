/**
 * Probe runs in a project (issue 6): a probe pipeline file (or the demo's) → runs/<id>/ with the report
 * files (probe-report.json/.csv/.md/.html, probe-layers.csv, probe-accuracy.svg), the behavioural labels
 * with their generations, the splits, and a run manifest (inputs with hashes, params, seed, backend,
 * versions, timings). The refusal features come from a discovery run's results (the CosSim+AP global
 * set by default) or an explicit list; the random control has the same size and layers, seeded.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { importSuite } from '../../common/suites/import.js';
import type { PromptItem } from '../../common/suites/schema.js';
import { RUN_KIND, RUN_SCHEMA_VERSION } from '../../common/schemas/run.js';
import { currentBackend } from '../engine/backend.js';
import { JudgeCache } from '../eval/judges/cache.js';
import { JudgeSpecSchema, makeJudge } from '../eval/judges/factory.js';
import type { Judge } from '../eval/judges/types.js';
import { loadModel } from '../model/index.js';
import { codecFromTokenizer, makeLens, providerFromSaeSet } from '../refusal/lens.js';
import type { DiscoveryResults } from '../refusal/pipeline.js';
import { loadChatModel, loadSuitePrompts, resolve, resolveSaeSpec, saeSpecFiles, SuiteRefSchema } from '../refusal/project.js';
import { discoveryResults } from '../../common/results/discovery.js';
import { listFiles, readJson, readJsonFile, readResultFile, RunDir, sha256File, sha256Text, writeJsonAtomic } from '../refusal/runs.js';
import type { FeatureSet, StepCtx } from '../refusal/types.js';
import { parseFeatureId } from '../sae/features.js';
import { SaeSet } from '../sae/set.js';
import {
  activeFeaturePool,
  balancedRows,
  composeOod,
  labelByBehaviour,
  ProbeParamsSchema,
  randomControlFor,
  runProbePipeline,
  wildJailbreakSplits,
  type BehaviourLabel,
  type NamedFeatureSet,
  type ProbeSplits,
} from './pipeline.js';
import type { ProbeRunResult } from './report.js';
import { writeProbeReport } from './report-files.js';
import { FILE_LIMITS, readUserText } from '../engine/io/user-file.js';

export type ProbeSuiteRef = z.infer<typeof SuiteRefSchema>;

export const ProbePipelineSchema = z.object({
  kind: z.literal('refusal-workbench/probe-pipeline'),
  schemaVersion: z.literal(1),
  name: z.string().default('probe'),
  model: z.string(),
  saes: z.union([z.string(), z.record(z.string(), z.string())]),
  data: z.discriminatedUnion('kind', [
    /** Separate suites: in-distribution train/val, OOD vanilla harmful and adversarial (labelled by behaviour). */
    z.object({
      kind: z.literal('suites'),
      trainHarmful: SuiteRefSchema,
      trainHarmless: SuiteRefSchema,
      valHarmful: SuiteRefSchema,
      valHarmless: SuiteRefSchema,
      oodVanilla: SuiteRefSchema,
      oodAdversarial: SuiteRefSchema,
    }),
    /** One WildJailbreak train TSV (vanilla, adversarial, data_type): the paper's layout. */
    z.object({ kind: z.literal('wildjailbreak'), tsv: z.string(), maxAdversarial: z.number().int().positive().max(1_000_000).optional() }),
  ]),
  /** The refusal features: a discovery run (id under the project's runs/, or a folder) and its set, or ids `L{layer}/{index}`. */
  refusalFeatures: z.union([
    z.object({ discoveryRun: z.string(), set: z.string().default('cossim_ap_global') }),
    z.object({ features: z.array(z.string()).min(1) }),
  ]),
  /** More feature sets to probe, by name: ids `L{layer}/{index}`. */
  userSets: z.record(z.string(), z.array(z.string()).min(1)).default({}),
  /** Behavioural judge (default: the paper's substring list). */
  judge: JudgeSpecSchema.optional(),
  params: ProbeParamsSchema.partial().default({}),
});
export type ProbePipeline = z.infer<typeof ProbePipelineSchema>;

export function readProbePipeline(file: string): ProbePipeline {
  return readJsonFile(file, ProbePipelineSchema, 'a probe pipeline');
}

/**
 * The demo's probe pipeline: train on demo-harmful/harmless train splits, choose on their val splits,
 * test OOD on the held-out harmful prompts and the adversarial suite's test split (held-out wrappers).
 */
export function demoProbePipeline(demoDir: string, discoveryRun: string, params: Record<string, unknown> = {}): ProbePipeline {
  const s = (name: string, split: 'train' | 'val' | 'test') => ({ path: path.join(demoDir, 'suites', `${name}.json`), split });
  return ProbePipelineSchema.parse({
    kind: 'refusal-workbench/probe-pipeline',
    schemaVersion: 1,
    name: 'demo-probe',
    model: path.join(demoDir, 'model'),
    saes: path.join(demoDir, 'saes'),
    data: {
      kind: 'suites',
      trainHarmful: s('demo-harmful', 'train'),
      trainHarmless: s('demo-harmless', 'train'),
      valHarmful: s('demo-harmful', 'val'),
      valHarmless: s('demo-harmless', 'val'),
      oodVanilla: s('demo-harmful', 'test'),
      // The wrapped harmful requests only (the suite may also hold their unwrapped vanilla pairs).
      oodAdversarial: { ...s('demo-adversarial', 'test'), tags: ['harmful'], excludeTags: ['vanilla'] },
    },
    refusalFeatures: { discoveryRun },
    // The paper probes its 7 refusal features (METHOD §2.13) against 7 random ones: the top 7 of the set.
    params: { trainPerClass: 300, valPerClass: 100, testPerGroup: 200, refusalTopK: 7, maxNewTokens: 12, genBatchSize: 64, actBatchSize: 32, resamples: 1000, ...params },
  });
}


/** A suite's items after the split/tag/limit filters (JSON prompt suites; .tsv etc. through the importer). */
export function loadSuiteItems(base: string, ref: ProbeSuiteRef): { items: PromptItem[]; file: string } {
  const { items, file } = loadSuitePrompts(base, ref);
  return { items, file };
}

export interface DiscoveryRunInfo {
  runId: string;
  runDir: string;
  results: DiscoveryResults;
}

/**
 * Succeeded discovery runs in a project (those with results.json holding feature sets), newest first;
 * with `modelDir`, only runs that read that model's files.
 */
export function findDiscoveryRuns(projectDir: string, opts: { modelDir?: string } = {}): DiscoveryRunInfo[] {
  const modelDir = opts.modelDir ? path.resolve(opts.modelDir) + path.sep : null;
  const runs = path.join(projectDir, 'runs');
  if (!fs.existsSync(runs)) return [];
  const out: (DiscoveryRunInfo & { t: number })[] = [];
  for (const id of fs.readdirSync(runs)) {
    const dir = path.join(runs, id);
    const m = readJson<{ status?: string; step?: string; finishedAt?: string; inputs?: { path?: string }[] }>(path.join(dir, 'manifest.json'));
    if (!m || m.status !== 'succeeded' || m.step !== 'refusal.discover') continue;
    if (modelDir && !(m.inputs ?? []).some((i) => typeof i.path === 'string' && path.resolve(i.path).startsWith(modelDir))) continue;
    let r: DiscoveryResults;
    try {
      r = readResultFile(discoveryResults, path.join(dir, 'results.json'));
    } catch {
      continue; // not readable by this build: not a candidate
    }
    out.push({ runId: id, runDir: dir, results: r, t: Date.parse(m.finishedAt ?? '') || 0 });
  }
  return out.sort((a, b) => b.t - a.t || a.runId.localeCompare(b.runId)).map(({ t: _t, ...x }) => x);
}

/** The refusal feature set of a discovery run: `set` (default the CosSim+AP global set), which must be global. */
export function refusalSetFromDiscovery(results: DiscoveryResults, set = 'cossim_ap_global'): FeatureSet {
  const s = results.sets[set];
  if (!s) throw new Error(`the discovery run has no "${set}" feature set (has ${Object.keys(results.sets).join(', ')})`);
  if (s.kind !== 'global' || s.sets.length !== 1) throw new Error(`feature set "${set}" is per-sample; probes need one global set (e.g. cossim_ap_global)`);
  if (!s.sets[0]!.length) throw new Error(`feature set "${set}" is empty`);
  return s.sets[0]!;
}

function resolveDiscoveryRun(projectDir: string, base: string, ref: string): string {
  const inProject = path.join(projectDir, 'runs', ref);
  if (fs.existsSync(path.join(inProject, 'results.json'))) return inProject;
  const asPath = resolve(base, ref);
  if (fs.existsSync(path.join(asPath, 'results.json'))) return asPath;
  throw new Error(`discovery run "${ref}" not found (looked in ${inProject} and ${asPath})`);
}

function versions(): Record<string, string> {
  const out: Record<string, string> = { node: process.version };
  try {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../package.json'), 'utf8'));
    out.workbench = String(pkg.version);
    for (const k of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', 'zod']) if (pkg.dependencies?.[k]) out[k] = String(pkg.dependencies[k]);
  } catch {
    /* informational */
  }
  return out;
}

export interface ProbeOutcome {
  runId: string;
  runDir: string;
  result: ProbeRunResult;
  files: Record<string, string>;
  seconds: number;
}

/** Runs a probe pipeline into projectDir/runs/<id>/. `base` resolves the pipeline's relative paths. */
export async function runProbeProject(
  pl: ProbePipeline,
  base: string,
  projectDir: string,
  ctx: StepCtx,
  opts: { runId?: string; fresh?: boolean } = {},
): Promise<ProbeOutcome> {
  const t0 = performance.now();
  const started = new Date();
  const params = ProbeParamsSchema.parse(pl.params);
  const modelDir = resolve(base, pl.model);
  const saeSpec = resolveSaeSpec(base, pl.saes);

  // Feature sets (resolved before any model work, so a bad reference fails fast).
  let refusal: FeatureSet;
  let refusalLabel: string;
  const inputFiles: { name: string; path: string; n?: number }[] = [];
  if ('discoveryRun' in pl.refusalFeatures) {
    const dir = resolveDiscoveryRun(projectDir, base, pl.refusalFeatures.discoveryRun);
    refusal = refusalSetFromDiscovery(readResultFile(discoveryResults, path.join(dir, 'results.json')), pl.refusalFeatures.set);
    refusalLabel = `${pl.refusalFeatures.set === 'cossim_ap_global' ? 'CosSim+AP refusal features' : `refusal features (${pl.refusalFeatures.set})`} of ${path.basename(dir)}`;
    inputFiles.push({ name: 'discovery results', path: path.join(dir, 'results.json'), n: refusal.length });
  } else {
    refusal = pl.refusalFeatures.features.map(parseFeatureId);
    refusalLabel = 'refusal features (given)';
  }
  if (params.refusalTopK !== null && refusal.length > params.refusalTopK) refusal = refusal.slice(0, params.refusalTopK);
  const userSets: NamedFeatureSet[] = Object.entries(pl.userSets).map(([name, ids]) => ({ name, label: `user set ${name}`, set: ids.map(parseFeatureId) }));

  const runId = opts.runId ?? `probe-${sha256Text(JSON.stringify({ pl, modelDir, saeSpec, refusal })).slice(0, 12)}`;
  const runDirPath = path.join(projectDir, 'runs', runId);
  if (opts.fresh) fs.rmSync(runDirPath, { recursive: true, force: true });
  const run = new RunDir(runDirPath);
  ctx.onRunDir?.(runDirPath);

  const { model, tokenizer } = await loadChatModel(modelDir, 'probing');
  const saes = SaeSet.open(saeSpec);
  const lens = makeLens(model, providerFromSaeSet(saes), codecFromTokenizer(tokenizer));
  const cache = await JudgeCache.open(path.join(projectDir, 'judge-cache.jsonl'));
  const judgeSpec = pl.judge ?? { type: 'substring' as const };
  const judge: Judge = await makeJudge(judgeSpec, {
    cache,
    env: process.env,
    loadClassifier: async (p) => {
      const m = await loadModel(p);
      if (!m.tokenizer) throw new Error(`${p}: the classifier judge needs a tokenizer`);
      return { model: m.model, tokenizer: m.tokenizer as never };
    },
  });
  const backend = currentBackend();
  const manifestBase = {
    kind: RUN_KIND,
    schemaVersion: RUN_SCHEMA_VERSION,
    id: runId,
    step: 'refusal.probe',
    params: { pipeline: pl, resolved: params },
    seed: params.seed,
    backend: backend.description,
    versions: versions(),
    startedAt: started.toISOString(),
  };
  const timings: Record<string, number> = {};
  try {
    // Data and behavioural labels (checkpointed: a rerun reads the labels back).
    let t = performance.now();
    let splits: ProbeSplits;
    let labels: BehaviourLabel[];
    let dropped: number;
    if (pl.data.kind === 'suites') {
      const d = pl.data;
      const get = (name: string, ref: ProbeSuiteRef) => {
        const r = loadSuiteItems(base, ref);
        inputFiles.push({ name, path: r.file, n: r.items.length });
        return r.items;
      };
      const [trH, trS, vaH, vaS, oodV, oodA] = [
        get('train harmful', d.trainHarmful), get('train harmless', d.trainHarmless),
        get('val harmful', d.valHarmful), get('val harmless', d.valHarmless),
        get('OOD vanilla harmful', d.oodVanilla), get('OOD adversarial', d.oodAdversarial),
      ];
      const { value } = await run.step('labels', async () => {
        ctx.log(`labelling ${oodA.length} adversarial prompts by behaviour (greedy, ${params.maxNewTokens} tokens, judge ${judge.id})`);
        return labelByBehaviour(lens, oodA, judge, { maxNewTokens: params.maxNewTokens, batchSize: params.genBatchSize, stopRule: params.stopRule, store: run.batchStore(), storeKey: 'probe-ood' }, ctx);
      });
      ({ labels, dropped } = value);
      splits = {
        train: balancedRows(trH, trS, params.trainPerClass, params.seed),
        val: balancedRows(vaH, vaS, params.valPerClass, params.seed + 10),
        test: composeOod(oodV, labels, { perGroup: params.testPerGroup, includeRefused: params.includeRefusedAdversarial, seed: params.seed + 20 }),
      };
    } else {
      const d = pl.data;
      const file = resolve(base, d.tsv);
      const items = importSuite(readUserText(file, { maxBytes: FILE_LIMITS.suite, what: 'WildJailbreak TSV' }), path.basename(file), { format: 'wildjailbreak' }).items;
      inputFiles.push({ name: 'WildJailbreak TSV', path: file, n: items.length });
      const { value } = await run.step('labels', async () => {
        const r = await wildJailbreakSplits(lens, items, judge, { ...params, ...(d.maxAdversarial ? { maxAdversarial: d.maxAdversarial } : {}) }, ctx, run.batchStore());
        return { labels: r.labels, dropped: r.dropped, splits: r.splits };
      });
      ({ labels, dropped, splits } = value as { labels: BehaviourLabel[]; dropped: number; splits: ProbeSplits });
    }
    timings.labels = (performance.now() - t) / 1000;
    const refusedRate = labels.length ? labels.filter((l) => l.y === 1).length / labels.length : NaN;
    ctx.log(`behaviour: ${labels.length} adversarial prompts judged (${dropped} invalid), refusal rate ${refusedRate.toFixed(3)}; test ${splits.test.length} rows`);
    run.write('labels.json', { judge: judge.id, dropped, refusalRate: refusedRate, labels });
    run.write('splits.json', { train: splits.train.map((r) => [r.id, r.y]), val: splits.val.map((r) => [r.id, r.y]), test: splits.test.map((r) => [r.id, r.y, r.group]) });

    t = performance.now();
    const pool = params.randomFrom === 'active' ? await activeFeaturePool(lens, splits.train, refusal, params, ctx) : undefined;
    const randoms: NamedFeatureSet[] = [];
    for (let k = 0; k < params.randomDraws; k++) {
      const seed = (params.randomSeed ?? params.seed + 1) + k;
      const set = await randomControlFor(lens, refusal, seed, (l) => saes.meta(l).dSae, pool);
      randoms.push({ name: k === 0 ? 'random-features' : `random-features-${k + 1}`, label: `random control, same layers${pool ? ', active features' : ''}, seed ${seed}`, set });
    }
    const featureSets: NamedFeatureSet[] = [{ name: 'refusal-features', label: refusalLabel, set: refusal }, ...randoms, ...userSets];
    const hashed = inputFiles.map((f) => ({ ...f, sha256: sha256File(f.path) }));
    const modelFiles = listFiles(modelDir).map((f) => ({ path: f, sha256: sha256File(f) }));
    const saeFiles = saeSpecFiles(saeSpec).map((f) => ({ path: f, sha256: sha256File(f) }));
    timings.hashing = (performance.now() - t) / 1000;
    const weights = modelFiles.find((f) => f.path.endsWith('.safetensors'));
    const { result, info } = await runProbePipeline(
      lens,
      splits,
      featureSets,
      params,
      {
        runId,
        createdAt: started.toISOString(),
        tool: { name: 'refusal-workbench', version: versions().workbench ?? '0' },
        model: { name: path.basename(modelDir), ...(weights ? { sha256: weights.sha256 } : {}) },
        sae: { name: typeof saeSpec === 'string' ? path.basename(saeSpec) : Object.keys(saeSpec).map((l) => `L${l}`).join(',') },
        inputs: hashed.map((f) => ({ name: `${f.name}: ${path.basename(f.path)}`, sha256: f.sha256, ...(f.n !== undefined ? { n: f.n } : {}) })),
        backend: backend.description,
        versions: versions(),
        params: { judge: judge.id, behaviour: { adversarialJudged: labels.length, invalid: dropped, refusalRate: refusedRate } },
      },
      ctx,
    );
    Object.assign(timings, info.timings);
    const seconds = (performance.now() - t0) / 1000;
    timings.total = seconds;
    result.manifest.timings = { ...timings };
    const files = await writeProbeReport(runDirPath, result, { title: `Probe report — ${pl.name}` });
    run.write('manifest.json', {
      ...manifestBase,
      status: 'succeeded',
      inputs: [...modelFiles, ...saeFiles, ...hashed.map((f) => ({ path: f.path, sha256: f.sha256 }))],
      outputs: [...Object.keys(files), 'labels.json', 'splits.json'],
      counts: info.counts,
      featureSets: featureSets.map((f) => ({ name: f.name, features: f.set.map((x) => `L${x.layer}/${x.index}`) })),
      finishedAt: new Date().toISOString(),
      timings,
    });
    return { runId, runDir: runDirPath, result, files, seconds };
  } catch (e) {
    const cancelled = (e as Error).name === 'AbortError' || ctx.signal.aborted;
    writeJsonAtomic(path.join(runDirPath, 'manifest.json'), {
      ...manifestBase,
      status: cancelled ? 'cancelled' : 'failed',
      inputs: inputFiles.map((f) => ({ path: f.path })),
      outputs: [],
      finishedAt: new Date().toISOString(),
      timings: { ...timings, total: (performance.now() - t0) / 1000 },
      error: (e as Error).message,
    });
    throw e;
  } finally {
    saes.close();
    model.dispose();
  }
}
