/**
 * The step registry: name → module + export. The job queue sends the module URL and export name to a
 * worker thread, which imports it (TypeScript is fine: workers run through tsx) and calls it as a
 * `StepFn` (common/schemas/job.ts).
 *
 * To add a step: write `export async function myStep(params, ctx) {...}` somewhere under workers/,
 * then add an entry to BUILTIN_STEPS below:
 *   step('refusal.discover', '../../workers/refusal/discover.ts', 'discover', 'Find the refusal direction'),
 * Paths are relative to this file. Tests and plug-ins can also `registry.register({...})` at run time.
 */
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { StepInfo } from '../../common/api.js';

export interface StepSpec {
  name: string;
  title: string;
  description: string;
  /** file:// URL of the module to import in the worker. */
  module: string;
  /** Named export holding the StepFn. */
  export: string;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

function step(name: string, relModule: string, exportName: string, title: string, description = ''): StepSpec {
  return { name, title, description, module: pathToFileURL(path.resolve(HERE, relModule)).href, export: exportName };
}

export const BUILTIN_STEPS: StepSpec[] = [
  step(
    'demo.count',
    './builtin/demo.ts',
    'count',
    'Demo: count',
    'Counts to `n` (default 50) sleeping `ms` (default 100) per tick; reports progress and honours cancel.',
  ),
  step('demo.echo', './builtin/demo.ts', 'echo', 'Demo: echo', 'Returns its params; for API tests.'),
  step(
    'model.inspect',
    './builtin/model.ts',
    'inspect',
    'Inspect a model folder',
    'Architecture, layers, width, dtype and memory of a Hugging Face folder (config + safetensors headers only); params {folder}.',
  ),
  step(
    'refusal.discover',
    './builtin/refusal.ts',
    'discover',
    'Discover refusal features',
    'The discovery pipeline (direction → pool → attribution → selection → intervention → graph) stored as a run; params {pipeline?: path, demo?: true, fresh?, runId?, backend?}.',
  ),
  step(
    'refusal.categories',
    './builtin/categories.ts',
    'categories',
    'Harm categories: common vs specific features',
    'Per-category K*, the common (refusal) and specific (harm) sets, clamping with retention and transfer; params {pipeline?: path (default: the demo), fresh?, backend?}.',
  ),
  step(
    'refusal.probe',
    './builtin/probes.ts',
    'probes',
    'Linear probes: dense vs refusal features, out of distribution',
    'Dense probe per layer (best on validation), refusal-feature and random-feature probes on behaviourally labelled adversarial prompts; params {pipeline?: path (default: the demo), discovery?: run id, fresh?, backend?}.',
  ),
  step(
    'refusal.playground',
    './builtin/playground.ts',
    'playground',
    'Playground: base vs clamped vs ablated',
    'One chat-formatted prompt, three greedy generations (base, features clamped, refusal direction ablated at every layer) with per-token feature activations; params {prompt, features: [[layer, index]], mode: multiply|value, amount, positions: all|prompt|generation, maxNewTokens, pipeline?, backend?}.',
  ),
  step(
    'features.detail',
    './builtin/features.ts',
    'detail',
    'Feature detail',
    'One feature L{layer}/{index}: decoder cosine with the refusal direction, top-activating prompts and tokens with per-token activations, histogram, logit lens, LA-IG attribution per suite, Neuronpedia id; cached per feature in the run folder; params {layer, index, perSuite?, attributionPerSuite?, suites?, fresh?, pipeline?, backend?}.',
  ),
  step(
    'features.dashboard',
    './builtin/dashboard.ts',
    'dashboard',
    'Feature dashboards',
    'Scans a corpus (the source\'s suites, built-in suites such as alpaca, any suite file; prompt and reply tokens) and stores per feature: top and quantile-group examples with per-token activations, activation density, logit effects through the final norm, decoder-cosine neighbours, co-activation with the refusal set; params {features?, reference?, corpus?, perSource?, responseTokens?, seed?, pipeline?, backend?}.',
  ),
  step(
    'sae.preflight',
    './builtin/preflight.ts',
    'preflight',
    'SAE preflight',
    'Per SAE layer: bytes, d_sae, whether model + layer fit the memory budget, Neuronpedia id, and MSE / FVE / L0 / dead fraction / CE recovered on a few chat conversations; params {folders?: [path], perSuite?, ce?, pipeline?, backend?}.',
  ),
];

export class StepRegistry {
  private readonly steps = new Map<string, StepSpec>();

  constructor(initial: StepSpec[] = BUILTIN_STEPS) {
    for (const s of initial) this.register(s);
  }

  register(spec: StepSpec | (Omit<StepSpec, 'module'> & { module: string })): void {
    const module = /^[a-z]+:/i.test(spec.module) ? spec.module : pathToFileURL(path.resolve(spec.module)).href;
    this.steps.set(spec.name, { ...spec, module });
  }

  get(name: string): StepSpec | undefined {
    return this.steps.get(name);
  }

  list(): StepInfo[] {
    return [...this.steps.values()].map(({ name, title, description }) => ({ name, title, description }));
  }
}

export function stepModulePath(spec: StepSpec): string {
  return spec.module.startsWith('file:') ? fileURLToPath(spec.module) : spec.module;
}
