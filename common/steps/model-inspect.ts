/** `model.inspect`: a Hugging Face model folder's config and safetensors headers (never the weights). */
import { z } from 'zod';
import { defineStep } from './types.js';

export const InspectParamsSchema = z
  .object({
    /** A Hugging Face model folder, absolute or relative to the project. */
    folder: z.string().min(1, 'model.inspect needs params.folder (a Hugging Face model folder)').max(4096),
  })
  .strict();

export const InspectResultSchema = z.object({
  path: z.string(),
  name: z.string(),
  architecture: z.string(),
  dtype: z.string(),
  dtypes: z.array(z.string()),
  params: z.number(),
  layers: z.number(),
  dModel: z.number(),
  vocab: z.number(),
  memoryBytes: z.number(),
  files: z.array(z.string()),
});
export type InspectResult = z.infer<typeof InspectResultSchema>;

export const modelInspectStep = defineStep({
  name: 'model.inspect',
  title: 'Inspect a model folder',
  description: 'Architecture, layers, width, dtype and memory of a Hugging Face folder (config + safetensors headers only); params {folder}.',
  params: InspectParamsSchema,
  result: InspectResultSchema,
  outputs: [],
  codeVersion: 1,
  runFolder: 'job',
});
