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

// The spec is a step parameter (pipelines, the playground): declared once in the step contract.
import { JudgeSpecSchema, type JudgeSpec } from '../../../common/steps/judge.js';
export { JudgeSpecSchema, type JudgeSpec };

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
