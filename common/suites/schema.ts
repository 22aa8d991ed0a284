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

export const PromptSuiteSchema = z
  .object({
    kind: z.literal('prompt-suite'),
    schemaVersion: z.literal(1),
    name: z.string().min(1),
    /** Where it came from (file name and detected format), informational. */
    source: z.object({ file: z.string(), format: z.string() }).optional(),
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
