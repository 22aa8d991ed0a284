/**
 * Files of steps whose run folder is the job's (runs/<jobId>/): the playground's columns, the SAE preflight
 * and one feature's detail page. Each is the step's result (declared in common/steps) with kind and
 * schemaVersion, so what the job returns and what it leaves on disk are one schema.
 */
import { z } from 'zod';
import { FeatureDetailResultSchema } from '../steps/features-detail.js';
import { PlaygroundResultSchema } from '../steps/playground.js';
import { PreflightResultSchema } from '../steps/sae-preflight.js';
import { defineResult } from './versioned.js';

export const PLAYGROUND_KIND = 'refusal-workbench/playground' as const;
export const PlaygroundFileSchema = PlaygroundResultSchema.extend({ kind: z.literal(PLAYGROUND_KIND), schemaVersion: z.literal(1) });
export const playgroundFile = defineResult({ kind: PLAYGROUND_KIND, version: 1, title: 'playground result', schema: PlaygroundFileSchema, migrations: {} });

export const PREFLIGHT_KIND = 'refusal-workbench/sae-preflight' as const;
export const PreflightFileSchema = PreflightResultSchema.extend({ kind: z.literal(PREFLIGHT_KIND), schemaVersion: z.literal(1) });
export const preflightFile = defineResult({ kind: PREFLIGHT_KIND, version: 1, title: 'SAE preflight', schema: PreflightFileSchema, migrations: {} });

export const FEATURE_DETAIL_KIND = 'refusal-workbench/feature-detail' as const;
/** One feature's detail as stored (the step's result without the per-call source/cached/file fields). */
export const StoredFeatureDetailSchema = FeatureDetailResultSchema.omit({ source: true, cached: true, file: true });
export type StoredFeatureDetail = z.infer<typeof StoredFeatureDetailSchema>;
export const FeatureDetailFileSchema = z.object({
  kind: z.literal(FEATURE_DETAIL_KIND),
  schemaVersion: z.literal(1),
  /** What the detail was computed from (model, SAEs, suites, options): a different key recomputes. */
  cacheKey: z.string(),
  source: z.string(),
  params: z.record(z.string(), z.unknown()),
  features: z.record(z.string().regex(/^L\d+\/\d+$/), StoredFeatureDetailSchema),
});
export const featureDetailFile = defineResult({ kind: FEATURE_DETAIL_KIND, version: 1, title: 'feature detail', schema: FeatureDetailFileSchema, migrations: {} });
