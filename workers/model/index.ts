/** The model engine's public surface. */
import { Transformer, type CreateModelOptions, type WeightValue } from './transformer.js';
import type { ModelConfig } from './types.js';

export * from './types.js';
export { parseModelConfig, expectedWeights, parameterCount, SUPPORTED_ARCHITECTURES } from './config.js';
export { loadModel, inspectModel, type LoadedModel, type ModelInfo, type LoadModelOptions } from './loader.js';
export { ChatTokenizer, type ChatMessage } from './tokenizer.js';
export { prepareBatch, leftPad, defaultPositions } from './batch.js';
export { gradientsAtHooks, valueAndGradsAt } from './gradients.js';
export { Transformer };
export { Decoder, type WeightValue } from './transformer.js';

/**
 * Build a model from HF-named weights. Takes ownership of plain tensors (they are transposed and
 * disposed); tf.Variable weights are used as they are, so tf.variableGrads trains them.
 */
export function createModel(config: ModelConfig, weights: Map<string, WeightValue>, opts?: CreateModelOptions): Transformer {
  return new Transformer(config, weights, opts);
}
