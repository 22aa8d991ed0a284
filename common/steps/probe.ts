/** `refusal.probe`: dense vs refusal-feature vs random-feature linear probes, out of distribution. */
import { z } from 'zod';
import { RunIdSchema } from '../schemas/run.js';
import { BOUNDS, layerIndex, magnitude, nonNegativeInt, positiveInt, seed } from './bounds.js';
import { BackendNameSchema, defineStep, RunRefSchema } from './types.js';

/** The L2 grid the dense probe's λ is chosen from on validation (sklearn-style C = 1/λ). */
export const DEFAULT_L2_GRID = [1e-4, 1e-3, 1e-2, 1e-1, 1] as const;

const PositionSchema = z.union([z.enum(['last', 'mean']), z.object({ fromEnd: nonNegativeInt(BOUNDS.NEW_TOKENS) })]);

/** A probe pipeline's `params` (workers/probes/pipeline.ts). */
export const ProbeParamsSchema = z.object({
  seed: seed().default(42),
  /** Per class in train / val (reference 2000 / 400); shrink when a pool is short. */
  trainPerClass: positiveInt(BOUNDS.PROMPTS).default(2000),
  valPerClass: positiveInt(BOUNDS.PROMPTS).default(400),
  /** Per OOD group (reference 500): vanilla harmful and jailbreaking adversarial prompts. */
  testPerGroup: positiveInt(BOUNDS.PROMPTS).default(500),
  /** Also test on adversarial prompts the model refused (y=1, group 2). The paper's test has none. */
  includeRefusedAdversarial: z.boolean().default(false),
  /** Dense-probe layers (null = every layer). */
  layers: z.array(layerIndex()).max(BOUNDS.LAYER).nullable().default(null),
  position: PositionSchema.default('last'),
  /** W6: 'default' = attention mask; 'compat' = the reference's unmasked caching. */
  mask: z.enum(['default', 'compat']).default('default'),
  l2Grid: z.array(magnitude().nonnegative()).min(1).max(100).default([...DEFAULT_L2_GRID]),
  classWeight: z.enum(['balanced']).nullable().default(null),
  standardize: z.boolean().default(true),
  resamples: positiveInt(BOUNDS.RESAMPLES).default(1000),
  /** Behavioural labelling: greedy tokens per adversarial prompt, batch size, stop rule (W7). */
  maxNewTokens: positiveInt(BOUNDS.NEW_TOKENS).default(32),
  genBatchSize: positiveInt(BOUNDS.BATCH).default(16),
  stopRule: z.enum(['eos+eot', 'eos']).default('eos+eot'),
  actBatchSize: positiveInt(BOUNDS.BATCH).default(16),
  /** Keep only the first k refusal features (a discovery set is ranked best first; the paper probes 7). */
  refusalTopK: positiveInt(BOUNDS.FEATURES).nullable().default(null),
  /** Random control draws (each its own probe: random-features, random-features-2, …; seeds randomSeed + k). */
  randomDraws: positiveInt(BOUNDS.DRAWS).default(1),
  /** Random features from the whole dictionary ('any', the paper) or from those that fire (non-zero at the
   *  probe position) on ≥ 1% of the training prompts ('active': a control that cannot fail by being silent). */
  randomFrom: z.enum(['any', 'active']).default('any'),
  /** Seed of the random control set (default: seed + 1). */
  randomSeed: seed().nullable().default(null),
});
export type ProbeParams = z.infer<typeof ProbeParamsSchema>;

export const ProbeJobParamsSchema = z
  .object({
    /** Probe pipeline JSON (relative to the project or absolute); omitted = the bundled demo's. */
    pipeline: z.string().min(1).max(4096).optional(),
    /** Discovery run whose refusal features to probe (default: the newest one on the model). */
    discovery: RunIdSchema.optional(),
    fresh: z.boolean().optional(),
    backend: BackendNameSchema.optional(),
  })
  .strict();
export type ProbeJobParams = z.infer<typeof ProbeJobParamsSchema>;

export const PROBE_CODE_VERSION = 1;

export const probeStep = defineStep({
  name: 'refusal.probe',
  title: 'Linear probes: dense vs refusal features, out of distribution',
  description:
    'Dense probe per layer (best on validation), refusal-feature and random-feature probes on behaviourally labelled adversarial prompts; params {pipeline?: path (default: the demo), discovery?: run id, fresh?, backend?}.',
  params: ProbeJobParamsSchema,
  result: RunRefSchema,
  outputs: [
    { role: 'report', file: 'probe-report.json', kind: 'refusal-workbench/probe-report', schemaVersion: 2 },
    { role: 'report.html', file: 'probe-report.html', kind: 'text/html' },
    { role: 'report.csv', file: 'probe-report.csv', kind: 'text/csv' },
  ],
  codeVersion: PROBE_CODE_VERSION,
  runFolder: 'step',
});
