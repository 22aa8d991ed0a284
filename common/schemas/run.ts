/**
 * runs/<id>/manifest.json — everything needed to re-draw, re-export and re-run a result:
 * inputs, hashes, params, versions, seeds, backend, timings. Results sit next to it as JSON and
 * .safetensors/.npy files.
 */
import { z } from 'zod';
import { BuiltinProvenanceSchema } from '../suites/schema.js';

export const RUN_KIND = 'refusal-workbench/run' as const;
export const RUN_SCHEMA_VERSION = 1 as const;

export const RunIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'run id: letters, digits, . _ -');

export const RunManifestSchema = z.object({
  kind: z.literal(RUN_KIND),
  schemaVersion: z.literal(RUN_SCHEMA_VERSION),
  id: RunIdSchema,
  /** The registered step that produced it (e.g. `demo.count`, `refusal.discover`). */
  step: z.string(),
  params: z.record(z.string(), z.unknown()).default({}),
  status: z.enum(['succeeded', 'failed', 'cancelled']),
  /** Files the run read, with content hashes where known. */
  inputs: z
    .array(
      z.object({
        path: z.string(),
        sha256: z.string().optional(),
        /** A built-in suite (or an imported copy of one): its name, version hash and upstream source. */
        builtin: BuiltinProvenanceSchema.optional(),
      }),
    )
    .default([]),
  /** Result files, relative to the run folder. */
  outputs: z.array(z.string()).default([]),
  versions: z.record(z.string(), z.string()).default({}),
  seed: z.number().int().optional(),
  backend: z.string().optional(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  timings: z.record(z.string(), z.number()).default({}),
  error: z.string().optional(),
});
export type RunManifest = z.infer<typeof RunManifestSchema>;
