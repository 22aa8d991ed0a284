/**
 * The prompt-suite format shared by the importers, the workers and the renderer. Browser-safe.
 */
import { z } from 'zod';

/** Tags the workbench gives meaning to; any other non-empty tag is allowed too. */
export const KNOWN_TAGS = ['harmful', 'harmless', 'adversarial', 'vanilla', 'benign'] as const;
export type KnownTag = (typeof KNOWN_TAGS)[number];

export const SplitSchema = z.enum(['train', 'val', 'test']);
export type Split = z.infer<typeof SplitSchema>;

export const PromptItemSchema = z.object({
  /** Unique within the suite. */
  id: z.string().min(1),
  instruction: z.string().min(1),
  category: z.string().nullable(),
  tags: z.array(z.string().min(1)),
  split: SplitSchema.optional(),
  /** For an adversarial rewrite: the id of its vanilla prompt in the same suite. */
  pair: z.string().min(1).optional(),
  /** Binary target for probes and behavioural labelling: 1 = harmful / refused side, 0 = the other. */
  label: z.union([z.literal(0), z.literal(1)]).optional(),
  /** Other source columns kept verbatim (e.g. target, BehaviorID, FunctionalCategory, source). */
  meta: z.record(z.string(), z.string()).optional(),
});
export type PromptItem = z.infer<typeof PromptItemSchema>;

/**
 * Which built-in suite (assets/suites/index.json) a suite or a run input is, and exactly which version: the
 * sha256 of the shipped file and where it came from. Imported copies and run manifests carry it.
 */
export const BuiltinProvenanceSchema = z.object({
  /** The name a pipeline uses after `builtin:` (e.g. `advbench`, `harmful_test`). */
  name: z.string().min(1),
  /** sha256 of the shipped file (assets/suites/<file>); the version of the suite. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256: 64 lowercase hex digits'),
  /** Upstream repository, commit and path the file was taken from. */
  source: z.object({ repository: z.string().min(1), commit: z.string().optional(), file: z.string().min(1) }),
  /** Set on a project copy that was edited after it was imported: derived from that version, not equal to it. */
  modified: z.literal(true).optional(),
});
export type BuiltinProvenance = z.infer<typeof BuiltinProvenanceSchema>;

export const PromptSuiteSchema = z
  .object({
    kind: z.literal('prompt-suite'),
    schemaVersion: z.literal(1),
    name: z.string().min(1),
    /** Where it came from (file name and detected format), informational. */
    source: z.object({ file: z.string(), format: z.string() }).optional(),
    /** Set when the suite is (a copy of) a built-in suite: which one, and the hash of the version copied. */
    builtin: BuiltinProvenanceSchema.optional(),
    items: z.array(PromptItemSchema),
  })
  .superRefine((suite, ctx) => {
    const seen = new Set<string>();
    suite.items.forEach((it, k) => {
      if (seen.has(it.id)) {
        ctx.addIssue({ code: 'custom', message: `duplicate item id ${JSON.stringify(it.id)}`, path: ['items', k, 'id'] });
      }
      seen.add(it.id);
    });
    suite.items.forEach((it, k) => {
      if (it.pair !== undefined && !seen.has(it.pair)) {
        ctx.addIssue({ code: 'custom', message: `pair ${JSON.stringify(it.pair)} is not an item id`, path: ['items', k, 'pair'] });
      }
    });
  });
export type PromptSuite = z.infer<typeof PromptSuiteSchema>;

export function makeSuite(name: string, items: PromptItem[], source?: { file: string; format: string }): PromptSuite {
  return PromptSuiteSchema.parse({ kind: 'prompt-suite', schemaVersion: 1, name, ...(source ? { source } : {}), items });
}
