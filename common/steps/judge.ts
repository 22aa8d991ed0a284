/** A judge as pipelines and steps name it: the paper's substring list, an OpenAI-compatible server, or a local classifier model. */
import { z } from 'zod';

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
    concurrency: z.number().int().positive().max(1024).optional(),
    requestsPerSecond: z.number().positive().max(10_000).optional(),
    maxRetries: z.number().int().nonnegative().max(100).optional(),
    timeoutMs: z.number().positive().max(3_600_000).optional(),
  }),
  z.object({
    type: z.literal('model'),
    /** Folder of the classifier model (loaded by the caller's loader). */
    path: z.string(),
    format: z.enum(['harmbench', 'llamaguard3']),
    batchSize: z.number().int().positive().max(4096).optional(),
    maxResponseChars: z.number().int().positive().max(10_000_000).optional(),
  }),
]);
export type JudgeSpec = z.infer<typeof JudgeSpecSchema>;
