/**
 * Judges from a settings / pipeline-file spec, each wrapped in the verdict cache when a cache is given.
 */
import { z } from 'zod';
import { cachedJudge, type JudgeCache } from './cache.js';
import { HttpJudge } from './http.js';
import { ModelJudge, type JudgeTokenizer } from './model.js';
import { SubstringJudge } from './substring.js';
import type { Judge } from './types.js';
import type { CausalLM } from '../../model/types.js';

export const JudgeSpecSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('substring'),
    substrings: z.array(z.string().min(1)).optional(),
    apostrophes: z.enum(['exact', 'normalize']).optional(),
  }),
  z.object({
    type: z.literal('http'),
    url: z.string().optional(),
    apiKey: z.string().optional(),
    model: z.string().optional(),
    rubric: z.string().optional(),
    system: z.string().optional(),
    /** 'completions' + format: a classifier served raw (vLLM), e.g. HarmBench-cls with its [INST] prompt. */
    endpoint: z.enum(['chat', 'completions']).optional(),
    format: z.enum(['harmbench', 'llamaguard3']).optional(),
    logprobs: z.number().int().min(1).max(20).optional(),
    concurrency: z.number().int().positive().optional(),
    requestsPerSecond: z.number().positive().optional(),
    maxRetries: z.number().int().nonnegative().optional(),
    timeoutMs: z.number().positive().optional(),
  }),
  z.object({
    type: z.literal('model'),
    /** Folder of the classifier model (loaded by the caller's loader). */
    path: z.string(),
    format: z.enum(['harmbench', 'llamaguard3']),
    batchSize: z.number().int().positive().optional(),
    maxResponseChars: z.number().int().positive().optional(),
  }),
]);
export type JudgeSpec = z.infer<typeof JudgeSpecSchema>;

export interface JudgeDeps {
  cache?: JudgeCache;
  env?: Record<string, string | undefined>;
  /** Needed for 'model' specs: loads the classifier with our engine. */
  loadClassifier?: (path: string) => Promise<{ model: CausalLM; tokenizer: JudgeTokenizer }>;
}

export async function makeJudge(spec: JudgeSpec, deps: JudgeDeps = {}): Promise<Judge> {
  const s = JudgeSpecSchema.parse(spec);
  let j: Judge;
  if (s.type === 'substring') {
    j = new SubstringJudge({ ...(s.substrings ? { substrings: s.substrings } : {}), ...(s.apostrophes ? { apostrophes: s.apostrophes } : {}) });
  } else if (s.type === 'http') {
    const { type: _t, ...rest } = s;
    j = new HttpJudge({ ...rest, ...(deps.env ? { env: deps.env } : {}) });
  } else {
    if (!deps.loadClassifier) throw new Error('a model judge needs a classifier loader');
    const { model, tokenizer } = await deps.loadClassifier(s.path);
    const name = s.path.split(/[\\/]/).filter(Boolean).pop() ?? s.path;
    j = new ModelJudge({ model, tokenizer, format: s.format, name, ...(s.batchSize ? { batchSize: s.batchSize } : {}), ...(s.maxResponseChars ? { maxResponseChars: s.maxResponseChars } : {}) });
  }
  return deps.cache ? cachedJudge(j, deps.cache) : j;
}
