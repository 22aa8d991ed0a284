/** features.json — the researcher's notebook about features: labels, notes and tags per feature id. */
import { z } from 'zod';

export const FEATURES_KIND = 'refusal-workbench/features' as const;
export const FEATURES_SCHEMA_VERSION = 2 as const;

/** `L{layer}/{index}`, e.g. `L15/30001`. */
export const FeatureIdSchema = z.string().regex(/^L\d+\/\d+$/, 'feature id must look like L{layer}/{index}');
export type FeatureId = z.infer<typeof FeatureIdSchema>;

export function featureId(layer: number, index: number): FeatureId {
  return `L${layer}/${index}`;
}

export function parseFeatureId(id: string): { layer: number; index: number } {
  const m = /^L(\d+)\/(\d+)$/.exec(id);
  if (!m) throw new Error(`not a feature id: ${JSON.stringify(id)} (expected L{layer}/{index})`);
  return { layer: Number(m[1]), index: Number(m[2]) };
}

export const FeatureNoteSchema = z.object({
  label: z.string().default(''),
  notes: z.string().default(''),
  tags: z.array(z.string()).default([]),
  /** ISO time of the last edit. */
  updatedAt: z.string().optional(),
});
export type FeatureNote = z.infer<typeof FeatureNoteSchema>;

export const FeaturesFileSchema = z.object({
  kind: z.literal(FEATURES_KIND),
  schemaVersion: z.literal(FEATURES_SCHEMA_VERSION),
  features: z.record(FeatureIdSchema, FeatureNoteSchema).default({}),
});
export type FeaturesFile = z.infer<typeof FeaturesFileSchema>;

export function emptyFeatures(): FeaturesFile {
  return { kind: FEATURES_KIND, schemaVersion: FEATURES_SCHEMA_VERSION, features: {} };
}
