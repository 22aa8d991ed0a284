/**
 * The step registry: name → the step's contract (common/steps) + the module and export that implement it.
 * The job queue validates a job's params with the contract before queueing it, then sends the module URL
 * and export name to a worker thread, which imports it (TypeScript is fine: workers run through tsx),
 * parses the params again (defaults filled) and calls it as a `StepFn` (common/schemas/job.ts).
 *
 * To add a step: declare it in common/steps/<name>.ts and list it in common/steps/index.ts STEPS, write
 * `export async function myStep(params, ctx) {...}` (main/jobs/builtin/ calls into workers/), and add its
 * module here in IMPLEMENTATIONS (the type makes a missing entry a compile error). Tests and plug-ins can
 * also `registry.register({...})` at run time; test steps (common/steps/testing.ts) are registered only
 * with `testSteps: true`.
 */
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import type { StepInfo } from '../../common/api.js';
import { STEPS, type StepName } from '../../common/steps/index.js';
import { TEST_STEPS } from '../../common/steps/testing.js';
import type { StepDef } from '../../common/steps/types.js';

export interface StepSpec {
  name: string;
  title: string;
  description: string;
  /** file:// URL of the module to import in the worker. */
  module: string;
  /** Named export holding the StepFn. */
  export: string;
  /** The step's contract, when it has one (every built-in step does); params are validated against it. */
  def?: StepDef;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Where each production step is implemented (paths relative to this file). */
const IMPLEMENTATIONS: Record<StepName, [module: string, exportName: string]> = {
  'model.inspect': ['./builtin/model.ts', 'inspect'],
  'refusal.discover': ['./builtin/refusal.ts', 'discover'],
  'refusal.categories': ['./builtin/categories.ts', 'categories'],
  'refusal.probe': ['./builtin/probes.ts', 'probes'],
  'refusal.playground': ['./builtin/playground.ts', 'playground'],
  'features.detail': ['./builtin/features.ts', 'detail'],
  'features.dashboard': ['./builtin/dashboard.ts', 'dashboard'],
  'sae.preflight': ['./builtin/preflight.ts', 'preflight'],
};

const TEST_IMPLEMENTATIONS: Record<keyof typeof TEST_STEPS, [string, string]> = {
  'demo.count': ['./builtin/demo.ts', 'count'],
  'demo.echo': ['./builtin/demo.ts', 'echo'],
};

function spec(def: StepDef, [relModule, exportName]: [string, string]): StepSpec {
  return { name: def.name, title: def.title, description: def.description, module: pathToFileURL(path.resolve(HERE, relModule)).href, export: exportName, def };
}

export const BUILTIN_STEPS: StepSpec[] = (Object.keys(IMPLEMENTATIONS) as StepName[]).map((n) => spec(STEPS[n] as StepDef, IMPLEMENTATIONS[n]));
export const TEST_STEP_SPECS: StepSpec[] = (Object.keys(TEST_IMPLEMENTATIONS) as Array<keyof typeof TEST_STEPS>).map((n) =>
  spec(TEST_STEPS[n] as StepDef, TEST_IMPLEMENTATIONS[n]),
);

/** Whether the environment asks for the test steps (the headless server started by the e2e tests). */
export function testStepsFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.RW_TEST_STEPS === '1';
}

export interface StepRegistryOptions {
  /** Also register the test steps (demo.count, demo.echo). */
  testSteps?: boolean;
}

export class StepRegistry {
  private readonly steps = new Map<string, StepSpec>();

  constructor(initial: StepSpec[] = BUILTIN_STEPS, opts: StepRegistryOptions = {}) {
    for (const s of initial) this.register(s);
    if (opts.testSteps) for (const s of TEST_STEP_SPECS) this.register(s);
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

  /**
   * A job's params checked against the step's contract. Throws a ZodError whose paths start with
   * `params` (the API answers INVALID_REQUEST naming the field), so a bad value never becomes a failed job.
   */
  validate(name: string, params: unknown): void {
    const def = this.steps.get(name)?.def;
    if (!def) return;
    const r = def.params.safeParse(params ?? {});
    if (!r.success) throw new z.ZodError(r.error.issues.map((i) => ({ ...i, path: ['params', ...i.path] })));
  }
}

export function stepModulePath(spec: StepSpec): string {
  return spec.module.startsWith('file:') ? fileURLToPath(spec.module) : spec.module;
}
