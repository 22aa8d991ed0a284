/**
 * config.json against the tensors the folder actually holds, before anything is sized from the config.
 * A config is untrusted: `num_hidden_layers: 1e12` would have the loader enumerate a trillion expected
 * weights (and plan memory for them) before noticing none exist. Every dimension the engine allocates
 * from must be backed by a stored tensor's shape; a mismatch is refused naming the config field.
 */
import { FileFormatError } from '../engine/errors.js';
import type { ModelConfig } from './types.js';

/** Shapes of the stored tensors, by name (from safetensors headers or an index's weight map). */
export type StoredShapes = ReadonlyMap<string, readonly number[] | null>;

const LAYER = /^model\.layers\.(\d+)\./;

/**
 * Refuse a config whose values no stored tensor supports. `shapes` may hold `null` for tensors whose
 * shape is not known yet (a shard not opened); those only count for the layer census.
 */
export function checkConfigAgainstTensors(cfg: ModelConfig, shapes: StoredShapes, configFile: string): void {
  const refuse = (field: string, value: number, why: string): never => {
    throw new FileFormatError(configFile, `${field} is ${value} but ${why}; the config does not describe these weights`);
  };
  if (!Number.isInteger(cfg.headDim) || cfg.headDim <= 0) {
    refuse('head_dim', cfg.headDim, `hidden_size ${cfg.dModel} / num_attention_heads ${cfg.nHeads} is not a whole head size (set head_dim)`);
  }
  // Layers: indices stored must be exactly 0 … n−1.
  const layers = new Set<number>();
  for (const name of shapes.keys()) {
    const m = LAYER.exec(name);
    if (m) layers.add(Number(m[1]));
  }
  const max = layers.size ? Math.max(...layers) : -1;
  if (cfg.nLayers !== layers.size || max !== layers.size - 1) {
    refuse('num_hidden_layers', cfg.nLayers, layers.size ? `the weights hold ${layers.size} layers (model.layers.${Math.min(...layers)}–${max})` : 'the weights hold no model.layers.* tensors');
  }
  const shape = (name: string): readonly number[] | null => shapes.get(name) ?? null;
  const embed = shape('model.embed_tokens.weight');
  if (embed && embed.length === 2) {
    if (embed[0] !== cfg.vocabSize) refuse('vocab_size', cfg.vocabSize, `model.embed_tokens.weight has ${embed[0]} rows`);
    if (embed[1] !== cfg.dModel) refuse('hidden_size', cfg.dModel, `model.embed_tokens.weight is ${embed[1]} wide`);
  }
  const q = shape('model.layers.0.self_attn.q_proj.weight');
  if (q && q.length === 2 && q[0] !== cfg.nHeads * cfg.headDim) {
    refuse('num_attention_heads', cfg.nHeads, `model.layers.0.self_attn.q_proj.weight has ${q[0]} rows, not num_attention_heads × head_dim = ${cfg.nHeads * cfg.headDim}`);
  }
  const k = shape('model.layers.0.self_attn.k_proj.weight');
  if (k && k.length === 2 && k[0] !== cfg.nKvHeads * cfg.headDim) {
    refuse('num_key_value_heads', cfg.nKvHeads, `model.layers.0.self_attn.k_proj.weight has ${k[0]} rows, not num_key_value_heads × head_dim = ${cfg.nKvHeads * cfg.headDim}`);
  }
  const gate = shape('model.layers.0.mlp.gate_proj.weight');
  if (gate && gate.length === 2 && gate[0] !== cfg.dMlp) refuse('intermediate_size', cfg.dMlp, `model.layers.0.mlp.gate_proj.weight has ${gate[0]} rows`);
}
