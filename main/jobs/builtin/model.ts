/** Model inspection as a step: reads config.json and safetensors headers, never the weights. */
import * as path from 'node:path';
import type { StepContext } from '../../../common/schemas/job.js';
import { inspectModel } from '../../../workers/model/loader.js';

export interface InspectResult {
  path: string;
  name: string;
  architecture: string;
  dtype: string;
  dtypes: string[];
  params: number;
  layers: number;
  dModel: number;
  vocab: number;
  memoryBytes: number;
  files: string[];
}

/** params.folder: a Hugging Face model folder, absolute or relative to the project. */
export async function inspect(params: { folder?: string }, ctx: StepContext): Promise<InspectResult> {
  if (!params.folder) throw new Error('model.inspect needs params.folder (a Hugging Face model folder)');
  const dir = path.resolve(ctx.projectDir ?? process.cwd(), params.folder);
  ctx.progress({ stage: 'inspect', fraction: null });
  const info = inspectModel(dir);
  ctx.log(`${info.architecture}: ${info.config.nLayers} layers, d_model ${info.config.dModel}, ${info.parameters} parameters`);
  return {
    path: dir,
    name: path.basename(dir),
    architecture: info.architecture,
    dtype: info.dtypes[0] ?? 'float32',
    dtypes: info.dtypes,
    params: info.parameters,
    layers: info.config.nLayers,
    dModel: info.config.dModel,
    vocab: info.config.vocabSize,
    memoryBytes: info.weightBytes,
    files: info.files.map((f) => path.relative(dir, f)),
  };
}
