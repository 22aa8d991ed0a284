/** `refusal.playground`: one prompt, three greedy generations (base, features clamped, direction ablated). */
import { z } from 'zod';
import { BOUNDS, magnitude, nonNegativeInt, positiveInt } from './bounds.js';
import { JudgeSpecSchema } from './judge.js';
import { BackendNameSchema, defineStep } from './types.js';

const FeatureIdText = z.string().regex(/^L\d+\/\d+$/, 'feature id must look like L{layer}/{index}');
/** A feature as `[layer, index]`, `{layer, index}` or `"L{layer}/{index}"`. */
export const FeatureRefInputSchema = z.union([
  z.tuple([nonNegativeInt(BOUNDS.LAYER), nonNegativeInt(BOUNDS.FEATURES)]),
  z.object({ layer: nonNegativeInt(BOUNDS.LAYER), index: nonNegativeInt(BOUNDS.FEATURES) }),
  FeatureIdText,
]);

export const AblationSitesSchema = z.enum(['resid_post', 'arditi']);

const PositionsSchema = z.enum(['all', 'prompt', 'generation', 'generated']).default('all');

/** One steered column: clamp (multiply / set), additive α·W_dec[i], activation addition of the direction, ablation. */
export const InterventionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('clamp'), mode: z.enum(['multiply', 'value', 'set']).default('multiply'), amount: magnitude().default(-3), positions: PositionsSchema }),
  z.object({ kind: z.literal('add'), alpha: magnitude(), positions: PositionsSchema }),
  z.object({ kind: z.literal('actadd'), coefficient: magnitude(), layer: nonNegativeInt(BOUNDS.LAYER).optional() }),
  z.object({ kind: z.literal('ablate') }),
]);
export type InterventionParam = z.input<typeof InterventionSchema>;

/** Seeded sampling (temperature > 0); greedy when absent. */
export const SamplingSchema = z.object({
  temperature: z.number().min(0).max(10),
  topK: positiveInt(1_000_000).optional(),
  topP: z.number().gt(0).max(1).optional(),
  seed: z.number().int().default(0),
});

export const PlaygroundParamsSchema = z
  .object({
    prompt: z.string().max(100_000).refine((s) => s.trim().length > 0, 'the playground needs a prompt'),
    features: z.array(FeatureRefInputSchema).max(10_000).default([]),
    /** 'multiply' (by amount) or 'value'/'set' (to amount). */
    mode: z.enum(['multiply', 'value', 'set']).default('multiply'),
    /** c or v; default −3 (the paper's Gemma clamp). */
    amount: magnitude().default(-3),
    /** Where the clamp applies; 'generation' is the view's word for 'generated'. */
    positions: z.enum(['all', 'prompt', 'generation', 'generated']).default('all'),
    maxNewTokens: positiveInt(1024).default(64),
    /** Columns after the base one; default: clamp (mode, amount, positions), ablate. */
    interventions: z.array(InterventionSchema).max(8).optional(),
    sampling: SamplingSchema.optional(),
    /** Completions per column when sampling. */
    n: positiveInt(16).optional(),
    /** The judge giving every completion its verdict (default: the paper's substring judge). */
    judge: JudgeSpecSchema.optional(),
    /** Model/SAEs/direction from this pipeline file instead of the newest discovery run / the demo. */
    pipeline: z.string().min(1).max(4096).optional(),
    demo: z.boolean().optional(),
    /** Override the direction's ablation sites. */
    sites: AblationSitesSchema.optional(),
    backend: BackendNameSchema.optional(),
  })
  .strict();
export type PlaygroundParams = z.input<typeof PlaygroundParamsSchema>;

export const PlaygroundColumnSchema = z.looseObject({
  kind: z.enum(['base', 'clamped', 'steered', 'actadd', 'ablated']),
  text: z.string(),
  tokens: z.array(z.string()),
  tokenIds: z.array(z.number()),
  promptLength: z.number(),
  acts: z.array(z.array(z.number())),
  actsBeforeEdit: z.array(z.array(z.number())).optional(),
  stopped: z.boolean(),
});

export const PlaygroundResultSchema = z.looseObject({
  prompt: z.string(),
  features: z.array(z.string()),
  columns: z.array(PlaygroundColumnSchema),
  edit: z.union([z.object({ mode: z.literal('multiply'), c: z.number() }), z.object({ mode: z.literal('set'), v: z.number() })]),
  positions: z.enum(['all', 'prompt', 'generated']),
  maxNewTokens: z.number(),
  direction: z.object({ from: z.string(), layer: z.number().nullable(), sites: AblationSitesSchema }).nullable(),
  source: z.string(),
  notes: z.array(z.string()),
});

export const playgroundStep = defineStep({
  name: 'refusal.playground',
  title: 'Playground: base vs clamped vs ablated',
  description:
    'One chat-formatted prompt, three greedy generations (base, features clamped, refusal direction ablated at every layer) with per-token feature activations; params {prompt, features: [[layer, index]], mode: multiply|value, amount, positions: all|prompt|generation, maxNewTokens, pipeline?, backend?}.',
  params: PlaygroundParamsSchema,
  result: PlaygroundResultSchema,
  outputs: [{ role: 'playground', file: 'playground.json', kind: 'refusal-workbench/playground', schemaVersion: 1 }],
  codeVersion: 1,
  runFolder: 'job',
});
