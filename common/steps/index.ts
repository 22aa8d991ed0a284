/**
 * The production step registry: every step the workbench can run, by name. The job queue maps each name to
 * its implementation (main/jobs/steps.ts); the API, the worker, the CLI and the renderer's forms read the
 * definitions here. Test steps live in ./testing.ts and are not part of it.
 */
import type { z } from 'zod';
import { categoriesStep } from './categories.js';
import { discoverStep } from './discover.js';
import { featureDashboardStep } from './features-dashboard.js';
import { featureDetailStep } from './features-detail.js';
import { modelInspectStep } from './model-inspect.js';
import { playgroundStep } from './playground.js';
import { probeStep } from './probe.js';
import { saePreflightStep } from './sae-preflight.js';
import { TEST_STEPS } from './testing.js';
import type { StepDef } from './types.js';

export const STEPS = {
  'model.inspect': modelInspectStep,
  'refusal.discover': discoverStep,
  'refusal.categories': categoriesStep,
  'refusal.probe': probeStep,
  'refusal.playground': playgroundStep,
  'features.detail': featureDetailStep,
  'features.dashboard': featureDashboardStep,
  'sae.preflight': saePreflightStep,
} as const;

export type StepName = keyof typeof STEPS;
/** Steps known to the type system: production steps and the test steps (registered only in tests). */
type KnownSteps = typeof STEPS & typeof TEST_STEPS;
export type KnownStepName = keyof KnownSteps;
export type StepParamsInput<N extends KnownStepName> = z.input<KnownSteps[N]['params']>;
export type StepParams<N extends KnownStepName> = z.output<KnownSteps[N]['params']>;
export type StepResult<N extends KnownStepName> = z.output<KnownSteps[N]['result']>;

export const STEP_NAMES = Object.keys(STEPS) as StepName[];

export function isStepName(s: string): s is StepName {
  return Object.prototype.hasOwnProperty.call(STEPS, s);
}

/** The definition of a production or test step, or undefined. */
export function stepDef(name: string): StepDef | undefined {
  if (isStepName(name)) return STEPS[name] as StepDef;
  return (TEST_STEPS as Record<string, StepDef>)[name];
}

export * from './types.js';
export { BOUNDS } from './bounds.js';
