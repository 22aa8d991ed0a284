/**
 * Built-in prompt suites: the public benchmarks shipped in assets/suites, described by
 * assets/suites/index.json (source, licence, citation, role, item count, sha256 of each file). A pipeline
 * names one as `builtin:<name>` (e.g. `builtin:harmbench_test`, `builtin:harmful_test`). Browser-safe: the
 * files themselves are read by workers/suites/builtin.ts.
 */
import { z } from 'zod';
import { SplitSchema, type BuiltinProvenance } from './schema.js';

export const BUILTIN_PREFIX = 'builtin:';
export const BUILTIN_INDEX_KIND = 'refusal-workbench/builtin-suites' as const;

export const BuiltinRoleSchema = z.enum(['harmful', 'harmless', 'adversarial']);
export type BuiltinRole = z.infer<typeof BuiltinRoleSchema>;

export const BuiltinSuiteEntrySchema = z.object({
  name: z.string().regex(/^[a-z0-9_]+$/, 'name: lowercase letters, digits and _'),
  title: z.string().min(1),
  role: BuiltinRoleSchema,
  /** Set for the train/val/test split files: every item carries this split. */
  split: SplitSchema.optional(),
  /** Relative to assets/suites, forward slashes. */
  file: z.string().regex(/^[A-Za-z0-9_./-]+$/).refine((f) => !f.split('/').includes('..'), 'file: no ".." segments'),
  format: z.enum(['json', 'csv']),
  /** Prompts in the file (as the importer reads it), bytes and sha256 of the file: checked by a test. */
  items: z.number().int().positive(),
  bytes: z.number().int().positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Where the file was taken from (repository URL, commit, path there). */
  source: z.object({ repository: z.string().url(), commit: z.string().optional(), file: z.string().min(1) }),
  /** Where the prompts originally come from. */
  origin: z.string().min(1),
  licence: z.string().min(1),
  /** BibTeX entries, blank-line separated. */
  citation: z.string().min(1),
});
export type BuiltinSuiteEntry = z.infer<typeof BuiltinSuiteEntrySchema>;

export const BuiltinIndexSchema = z
  .object({
    kind: z.literal(BUILTIN_INDEX_KIND),
    schemaVersion: z.literal(1),
    note: z.string().optional(),
    suites: z.array(BuiltinSuiteEntrySchema).min(1),
  })
  .superRefine((idx, ctx) => {
    const seen = new Set<string>();
    idx.suites.forEach((s, k) => {
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', message: `duplicate built-in suite ${JSON.stringify(s.name)}`, path: ['suites', k, 'name'] });
      seen.add(s.name);
    });
  });
export type BuiltinIndex = z.infer<typeof BuiltinIndexSchema>;

/** `builtin:advbench` → `advbench`; anything else (a path) → null. */
export function parseBuiltinRef(ref: string): string | null {
  return ref.startsWith(BUILTIN_PREFIX) ? ref.slice(BUILTIN_PREFIX.length).trim() : null;
}

/** What an imported copy and a run manifest record about the built-in suite they used. */
export function builtinProvenance(e: BuiltinSuiteEntry): BuiltinProvenance {
  return { name: e.name, sha256: e.sha256, source: { ...e.source } };
}
