/**
 * runs/<id>/results.json of `refusal.discover` (workers/refusal/pipeline.ts builds it, workers/refusal/project.ts
 * writes it). Version 2 names every field; version-1 files were written while fields were being added
 * (kStar, warnings, jailbreak_rate, ce, induced, mechanism appear in some and not others), so the v1 → v2
 * migration fills what an old file lacks with "not computed" (null / empty), never with a number.
 */
import { z } from 'zod';
import { METHOD_KEYS, MethodKeySchema } from '../steps/discover.js';
import { defineResult } from './versioned.js';

export const DISCOVERY_RESULTS_KIND = 'refusal-workbench/discovery-results' as const;
export const DISCOVERY_RESULTS_VERSION = 2 as const;

export const FeatureIdSchema = z.object({ layer: z.number().int().nonnegative(), index: z.number().int().nonnegative() });
export const FeatureSetsSchema = z.object({
  kind: z.enum(['local', 'global']),
  /** local: one set per sample (aligned by sample index); global: exactly one, shared. */
  sets: z.array(z.array(FeatureIdSchema)),
});

/** A value per method; a method that was not run has no entry. */
const PerMethod = z.partialRecord(MethodKeySchema, z.number());

const DropSchema = z.object({ n: z.number().int().nonnegative(), harmDrop: z.number().nullable(), refusalDrop: z.number().nullable() });

export const DiscoveryResultsSchema = z.object({
  kind: z.literal(DISCOVERY_RESULTS_KIND),
  schemaVersion: z.literal(DISCOVERY_RESULTS_VERSION),
  layer: z.number().int().nonnegative(),
  layerSweep: z
    .array(z.object({ layer: z.number().int().nonnegative(), refusalRate: z.number(), meanRefusalProb: z.number(), judgedRefusalRate: z.number().optional() }))
    .nullable(),
  counts: z.object({ harmful: z.number().int().nonnegative(), harmless: z.number().int().nonnegative(), evalHarmless: z.number().int().nonnegative() }),
  clampValue: z.number(),
  /** K* of this run's sets (null: a v1 file that did not record it). */
  kStar: z.number().int().positive().nullable(),
  warnings: z.array(z.string()),
  sets: z.record(z.string(), FeatureSetsSchema),
  refusal_rate: PerMethod,
  harmless_refusal_rate: PerMethod,
  jailbreak_rate: PerMethod.nullable(),
  /** CE (nats per label token) of the base model's harmless rollouts under each method's condition. */
  ce: PerMethod.nullable(),
  graph: z
    .object({ nodes: z.number().int(), edges: z.number().int(), upward_edges: z.number().int(), gradient_edges: z.number().int(), clamp_edges: z.number().int() })
    .nullable(),
  induced: z.object({ rows: z.array(z.object({ v: z.number(), rate: z.number() })), actAddRate: z.number().nullable() }).nullable(),
  mechanism: z.object({ jailbreak: DropSchema, failed: DropSchema, adversarialRefusalRate: z.number() }).nullable(),
  judge: z.string(),
  timings: z.record(z.string(), z.number()),
  seconds: z.number().optional(),
  memory: z
    .object({ plannedPeakBytes: z.number(), capBytes: z.number().nullable(), saesResident: z.boolean(), peakResidentSaeLayers: z.number() })
    .optional(),
});
export type DiscoveryResultsFile = z.infer<typeof DiscoveryResultsSchema>;

export const discoveryResults = defineResult({
  kind: DISCOVERY_RESULTS_KIND,
  version: DISCOVERY_RESULTS_VERSION,
  oldest: 1,
  title: 'discovery results',
  schema: DiscoveryResultsSchema,
  migrations: {
    1: (o) => ({
      ...o,
      kStar: o.kStar ?? null,
      warnings: o.warnings ?? [],
      jailbreak_rate: o.jailbreak_rate ?? null,
      ce: o.ce ?? null,
      induced: o.induced ?? null,
      mechanism: o.mechanism ?? null,
    }),
  },
});

/** Methods in the order the method list declares them (for tables). */
export const METHOD_ORDER: readonly string[] = METHOD_KEYS;
