/**
 * Opens a local Hugging Face folder exactly as `huggingface-cli download` leaves it: config.json,
 * model.safetensors or shards + model.safetensors.index.json, tokenizer files, generation_config.json.
 * Weights are read tensor by tensor and converted to float32, so no second full copy is held.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { FileFormatError } from '../engine/errors.js';
import { SafetensorsFile } from '../engine/io/safetensors.js';
import { expectedWeights, parameterCount, parseModelConfig } from './config.js';
import { checkConfigAgainstTensors } from './config-check.js';
import { FILE_LIMITS, readUserJson } from '../engine/io/user-file.js';
import { ChatTokenizer } from './tokenizer.js';
import { currentBackend } from '../engine/backend.js';
import { checkCanHold, chunkRowsFromArray, maxTensorBytes } from '../engine/memory-guard.js';
import { Transformer, type WeightValue } from './transformer.js';
import type { ModelConfig } from './types.js';
import { resolveModelDir } from '../engine/io/hf-cache.js';

export interface ModelInfo {
  dir: string;
  architecture: string;
  config: ModelConfig;
  /** Storage dtypes found in the weight files. */
  dtypes: string[];
  parameters: number;
  /** float32 bytes the engine holds for the weights. */
  weightBytes: number;
  /** Rough peak for a forward of `batch × seq` tokens on top of the weights. */
  activationBytes: (batch: number, seq: number) => number;
  files: string[];
}

export interface LoadedModel {
  model: Transformer;
  tokenizer: ChatTokenizer | null;
  config: ModelConfig;
  info: ModelInfo;
}

function readJson(file: string): Record<string, unknown> {
  const v = readUserJson(file, { maxBytes: FILE_LIMITS.config, what: path.basename(file) });
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new FileFormatError(file, 'expected a JSON object');
  return v as Record<string, unknown>;
}

/** Which file holds each tensor. */
function weightFiles(dir: string): Map<string, string> {
  const single = path.join(dir, 'model.safetensors');
  const index = path.join(dir, 'model.safetensors.index.json');
  const where = new Map<string, string>();
  if (fs.existsSync(single)) {
    return where.set('*', single);
  }
  if (!fs.existsSync(index)) {
    throw new FileFormatError(dir, 'no model.safetensors or model.safetensors.index.json found (only safetensors weights are supported; .bin pickles are never loaded)');
  }
  const map = readJson(index).weight_map as Record<string, string> | undefined;
  if (!map) throw new FileFormatError(index, 'missing "weight_map"');
  for (const [name, shard] of Object.entries(map)) {
    const file = path.join(dir, shard);
    if (!fs.existsSync(file)) throw new FileFormatError(file, `shard named in ${path.basename(index)} is missing`);
    where.set(name, file);
  }
  return where;
}

export function inspectModel(dirIn: string): ModelInfo {
  const dir = resolveModelDir(dirIn); // HF cache repo root / snapshot → the folder to read (issue 15)
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new FileFormatError(dir, 'model folder not found');
  const cfgFile = path.join(dir, 'config.json');
  if (!fs.existsSync(cfgFile)) throw new FileFormatError(cfgFile, 'missing config.json');
  const config = parseModelConfig(readJson(cfgFile), cfgFile);
  const where = weightFiles(dir);
  const files = [...new Set(where.values())];
  const dtypes = new Set<string>();
  const shapes = new Map<string, number[]>();
  for (const f of files) {
    const st = SafetensorsFile.open(f);
    for (const t of st.tensors.values()) {
      dtypes.add(t.dtype);
      shapes.set(t.name, t.shape);
    }
    st.close();
  }
  checkConfigAgainstTensors(config, shapes, cfgFile);
  const parameters = parameterCount(config);
  const d = config.dModel;
  return {
    dir,
    architecture: config.hfArchitecture,
    config,
    dtypes: [...dtypes],
    parameters,
    weightBytes: parameters * 4,
    activationBytes: (batch, seq) =>
      4 * batch * seq * (6 * d + 3 * config.dMlp + 2 * config.nHeads * seq + config.vocabSize) +
      4 * batch * seq * 2 * config.nKvHeads * config.headDim * config.nLayers,
    files,
  };
}

export interface LoadModelOptions {
  /**
   * Called before weights are read with the float32 bytes needed; throw to refuse. Default: the memory
   * guard for the active backend (weights plus activations for a batch of 8 × 128 tokens).
   */
  checkMemory?: ((bytes: number, info: ModelInfo) => void) | null;
  /** Split weights above this many bytes into row chunks (default: the active backend's per-tensor limit). */
  maxTensorBytes?: number | null;
  onProgress?: (fraction: number) => void;
}

function defaultMemoryCheck(bytes: number, info: ModelInfo): void {
  const c = info.config;
  checkCanHold(bytes + info.activationBytes(8, 128), currentBackend(), {
    what: `${path.basename(info.dir)} (${(info.parameters / 1e9).toFixed(2)} B parameters)`,
    largestTensorBytes: 4 * c.vocabSize * c.dModel,
    chunked: true,
  });
}

export async function loadModel(dirIn: string, opts: LoadModelOptions = {}): Promise<LoadedModel> {
  const dir = resolveModelDir(dirIn); // HF cache repo root / snapshot → the folder to read (issue 15)
  const info = inspectModel(dir);
  const config = info.config;
  if (opts.checkMemory !== null) (opts.checkMemory ?? defaultMemoryCheck)(info.weightBytes, info);
  const limit = opts.maxTensorBytes !== undefined ? opts.maxTensorBytes : maxTensorBytes(currentBackend());
  const where = weightFiles(dir);
  const open = new Map<string, SafetensorsFile>();
  const fileFor = (name: string): SafetensorsFile => {
    const f = where.get('*') ?? where.get(name);
    if (!f) throw new FileFormatError(dir, `weight "${name}" is not in any safetensors file`);
    let st = open.get(f);
    if (!st) {
      st = SafetensorsFile.open(f);
      open.set(f, st);
    }
    return st;
  };
  const weights = new Map<string, WeightValue>();
  try {
    const expected = expectedWeights(config);
    let i = 0;
    for (const [name, shape] of expected) {
      const st = fileFor(name);
      if (!st.has(name)) throw new FileFormatError(st.path, `weight "${name}" not found (required by ${config.hfArchitecture})`);
      const t = st.info(name);
      if (t.shape.join() !== shape.join()) {
        throw new FileFormatError(st.path, `weight "${name}" has shape [${t.shape}] but config.json implies [${shape}]`);
      }
      const data = st.readFloat32(name);
      // Large matrices are built as row chunks so no tensor passes the backend's per-tensor limit.
      const chunked = shape.length === 2 && limit !== null && data.byteLength > limit;
      weights.set(name, chunked ? chunkRowsFromArray(data, shape[0]!, shape[1]!, limit) : tf.tensor(data, shape, 'float32'));
      opts.onProgress?.(++i / expected.size);
      // Let a worker's event loop breathe (progress, cancel) during long loads.
      if (i % 16 === 0) await new Promise((r) => setImmediate(r));
    }
  } catch (e) {
    for (const t of weights.values()) tf.dispose(t);
    throw e;
  } finally {
    for (const st of open.values()) st.close();
  }
  const tokenizer = fs.existsSync(path.join(dir, 'tokenizer.json')) ? ChatTokenizer.fromDir(dir) : null;
  const stop = new Set<number>(config.eosTokenIds);
  const genFile = path.join(dir, 'generation_config.json');
  if (fs.existsSync(genFile)) {
    const eos = readJson(genFile).eos_token_id;
    for (const id of Array.isArray(eos) ? eos : eos != null ? [eos] : []) stop.add(Number(id));
  }
  if (tokenizer?.eosId != null) stop.add(tokenizer.eosId);
  if (tokenizer?.endOfTurnId != null) stop.add(tokenizer.endOfTurnId);
  const model = new Transformer(config, weights, { stopTokens: [...stop] });
  return { model, tokenizer, config, info };
}
