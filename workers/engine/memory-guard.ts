/**
 * Real-model guard rails (ENGINE-NOTES.md "Memory", issue 2 item 10).
 *
 * - wasm: the heap stops at ~3.84 GiB and a single allocation at ~2.25 GiB; past that malloc returns
 *   NULL, tfjs does not check, and tensors silently overwrite each other. We refuse above 3.5 GiB in all
 *   (already held + needed) and above 2 GiB for one tensor, with a message naming the size.
 * - webgpu: a tensor larger than the adapter's maxStorageBufferBindingSize gives wrong results without an
 *   exception. Large weights ([rows, cols], e.g. the embedding / unembedding) are split into row chunks
 *   under the limit (`rowChunks`, `chunkRows`, `chunkedGather`, `chunkedLinear`); device errors become
 *   exceptions in backend/webgpu.ts (`withGpuErrorScope`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { MemoryLimitError } from './errors.js';
import type { BackendInfo, BackendName } from './backend.js';

export const GiB = 1024 ** 3;
export const MiB = 1024 ** 2;
/** Total bytes we let the wasm heap hold (its hard limit is ~3.84 GiB). */
export const WASM_HEAP_LIMIT_BYTES = 3.5 * GiB;
/** Largest single tensor on wasm (the largest allocation that succeeds is ~2.25 GiB). */
export const WASM_MAX_TENSOR_BYTES = 2 * GiB;
/** Fallback binding limit when the adapter is unknown (WebGPU's default maxStorageBufferBindingSize). */
export const WEBGPU_DEFAULT_BINDING_BYTES = 128 * MiB;

export interface MemoryBudget {
  /** Bytes the backend can hold in all, or null where no limit is known (tensorflow, cpu). */
  totalBytes: number | null;
  /** Largest single tensor, or null where none is known. */
  maxTensorBytes: number | null;
}

export function formatBytes(n: number): string {
  if (n >= GiB) return `${(n / GiB).toFixed(2)} GiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

function asInfo(backend: BackendInfo | BackendName): BackendInfo {
  return typeof backend === 'string' ? { name: backend, description: backend } : backend;
}

export function memoryBudget(backend: BackendInfo | BackendName): MemoryBudget {
  const info = asInfo(backend);
  switch (info.name) {
    case 'wasm':
      return { totalBytes: WASM_HEAP_LIMIT_BYTES, maxTensorBytes: WASM_MAX_TENSOR_BYTES };
    case 'webgpu':
      return {
        totalBytes: null,
        maxTensorBytes: info.adapter?.maxStorageBufferBindingSize ?? WEBGPU_DEFAULT_BINDING_BYTES,
      };
    default:
      return { totalBytes: null, maxTensorBytes: null };
  }
}

export interface CheckOptions {
  /** What is being loaded, for the message (e.g. "gemma-2-2b-it (2.6 B parameters)"). */
  what?: string;
  /** Bytes already held on the backend; default tf.memory().numBytes when `backend` is the active one. */
  inUseBytes?: number;
  /** Largest single tensor that will be allocated (unchunked); checked against the per-tensor limit. */
  largestTensorBytes?: number;
  /** Whether the caller splits large weights under the per-tensor limit (webgpu); default true. */
  chunked?: boolean;
}

const GPU_HINT =
  'use a GPU backend: RW_BACKEND=webgpu (a GPU with a Vulkan/Metal/D3D12 driver) or install ' +
  '@tensorflow/tfjs-node-gpu (CUDA) and RW_BACKEND=tensorflow';

/**
 * Throws MemoryLimitError when `backend` cannot hold `bytesNeeded` more bytes (plus what it already
 * holds). Call before loading a model, with its float32 weight bytes plus an activation estimate.
 */
export function checkCanHold(bytesNeeded: number, backend: BackendInfo | BackendName, opts: CheckOptions = {}): void {
  const info = asInfo(backend);
  const budget = memoryBudget(info);
  const what = opts.what ?? 'the model';
  let inUse = opts.inUseBytes;
  if (inUse == null) {
    try {
      inUse = tf.getBackend() === info.name ? tf.memory().numBytes : 0;
    } catch {
      inUse = 0;
    }
  }
  if (budget.totalBytes != null && inUse + bytesNeeded > budget.totalBytes) {
    const held = inUse > 0 ? ` with ${formatBytes(inUse)} already held` : '';
    throw new MemoryLimitError(
      `${what} needs ${formatBytes(bytesNeeded)} in float32${held}, but the ${info.name} backend can hold ` +
        `about ${formatBytes(budget.totalBytes)} (its heap corrupts silently beyond ~3.8 GiB). ` +
        `Choose a smaller model or ${GPU_HINT}.`,
    );
  }
  const largest = opts.largestTensorBytes;
  const chunked = opts.chunked ?? true;
  if (largest != null && budget.maxTensorBytes != null && largest > budget.maxTensorBytes) {
    if (info.name === 'webgpu' && chunked) return; // the caller splits it into row chunks
    throw new MemoryLimitError(
      `${what} has a tensor of ${formatBytes(largest)}, above the ${info.name} backend's limit of ` +
        `${formatBytes(budget.maxTensorBytes)} for one tensor. ` +
        (info.name === 'webgpu' ? 'Split it into row chunks (rowChunks / chunkRows).' : `Choose a smaller model or ${GPU_HINT}.`),
    );
  }
}

/** Largest single tensor the backend takes, or null where no limit is known. */
export function maxTensorBytes(backend: BackendInfo | BackendName): number | null {
  return memoryBudget(backend).maxTensorBytes;
}

/**
 * Row ranges [start, start+size) of a [rows, cols] matrix such that each chunk has at most `maxBytes`
 * bytes. One chunk when it fits (or when maxBytes is null).
 */
export function rowChunks(
  rows: number,
  cols: number,
  maxBytes: number | null,
  bytesPerElement = 4,
): Array<{ start: number; size: number }> {
  if (!(rows > 0)) return [];
  const rowBytes = Math.max(1, cols) * bytesPerElement;
  if (maxBytes == null || rows * rowBytes <= maxBytes) return [{ start: 0, size: rows }];
  const per = Math.floor(maxBytes / rowBytes);
  if (per < 1) {
    throw new MemoryLimitError(
      `one row of ${cols} values (${formatBytes(rowBytes)}) is above the per-tensor limit of ${formatBytes(maxBytes)}`,
    );
  }
  const n = Math.ceil(rows / per);
  const size = Math.ceil(rows / n); // balanced chunks
  const out: Array<{ start: number; size: number }> = [];
  for (let start = 0; start < rows; start += size) out.push({ start, size: Math.min(size, rows - start) });
  return out;
}

/**
 * Splits a [rows, cols] weight into row chunks under `maxBytes` (default: the active backend's per-tensor
 * limit). Returns [w] itself (not a copy) when it fits; otherwise new tensors (the caller disposes w).
 */
export function chunkRows(w: tf.Tensor2D, maxBytes: number | null): tf.Tensor2D[] {
  const [rows, cols] = w.shape;
  const chunks = rowChunks(rows, cols, maxBytes, 4);
  if (chunks.length <= 1) return [w];
  return chunks.map(({ start, size }) => tf.slice(w, [start, 0], [size, cols]));
}

/**
 * Builds row chunks of a [rows, cols] weight from a CPU array without ever creating the whole tensor on
 * the backend (what a loader should do for a too-large embedding on webgpu).
 */
export function chunkRowsFromArray(values: Float32Array, rows: number, cols: number, maxBytes: number | null): tf.Tensor2D[] {
  return rowChunks(rows, cols, maxBytes, 4).map(({ start, size }) =>
    tf.tensor2d(values.subarray(start * cols, (start + size) * cols), [size, cols], 'float32'),
  );
}

/** Embedding lookup over row chunks: ids [..] → [.., cols]. Differentiable (gather + mask). */
export function chunkedGather(chunks: tf.Tensor2D[], ids: tf.Tensor): tf.Tensor {
  if (chunks.length === 1) return tf.gather(chunks[0], ids);
  return tf.tidy(() => {
    let out: tf.Tensor | null = null;
    let start = 0;
    for (const c of chunks) {
      const size = c.shape[0];
      const local = tf.sub(tf.cast(ids, 'int32'), tf.scalar(start, 'int32'));
      const inRange = tf.logicalAnd(tf.greaterEqual(local, tf.scalar(0, 'int32')), tf.less(local, tf.scalar(size, 'int32')));
      const safe = tf.where(inRange, local, tf.zerosLike(local));
      const rows = tf.mul(tf.gather(c, safe), tf.expandDims(tf.cast(inRange, 'float32'), -1));
      out = out ? tf.add(out, rows) : rows;
      start += size;
    }
    return out as tf.Tensor;
  });
}

/** x [.., cols] @ Wᵀ for W given as row chunks [rows_i, cols] → [.., Σ rows_i] (e.g. the unembedding). */
export function chunkedLinear(x: tf.Tensor, chunks: tf.Tensor2D[]): tf.Tensor {
  return tf.tidy(() => {
    const d = x.shape[x.shape.length - 1];
    const lead = x.shape.slice(0, -1);
    const x2 = tf.reshape(x, [-1, d]);
    const parts = chunks.map((c) => tf.matMul(x2, c, false, true));
    const y = parts.length === 1 ? parts[0] : tf.concat(parts, 1);
    return tf.reshape(y, [...lead, y.shape[1] as number]);
  });
}

export interface WeightEstimateConfig {
  vocabSize: number;
  dModel: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  dMlp: number;
  tieWordEmbeddings: boolean;
  architecture?: string;
}

/** Parameter count of a Gemma-2 / Llama decoder (norm weights included). */
export function parameterCount(c: WeightEstimateConfig): number {
  const attn = c.dModel * c.headDim * (2 * c.nHeads + 2 * c.nKvHeads);
  const mlp = 3 * c.dModel * c.dMlp;
  const norms = (c.architecture === 'gemma2' ? 4 : 2) * c.dModel;
  const embed = c.vocabSize * c.dModel * (c.tieWordEmbeddings ? 1 : 2);
  return c.nLayers * (attn + mlp + norms) + embed + c.dModel;
}

/** float32 weight bytes plus the activations of a forward over `tokens` positions (rough, generous). */
export function estimateForwardBytes(c: WeightEstimateConfig, tokens: number): number {
  const weights = parameterCount(c) * 4;
  const acts = tokens * (8 * c.dModel + 2 * c.dMlp + 2 * c.vocabSize) * 4;
  return weights + acts;
}

/**
 * A hook function (for any hook point, e.g. every `blocks.{l}.hook_resid_post`) that refuses with a
 * MemoryLimitError as soon as the backend holds more than its budget minus `reserveBytes` — turning the
 * wasm heap's silent corruption / `Aborted()` during a large forward into a clean exception the caller
 * can catch (e.g. to retry in micro-batches). Not inside tf.grads / tf.valueAndGrads: tfjs leaks the
 * tape's saved tensors when the recorded function throws; size gradient batches up front instead
 * (measure one sequence's recorded bytes, as bench/engine.ts does).
 */
export function memoryGuardHook(
  backend: BackendInfo | BackendName,
  reserveBytes = 256 * MiB,
  what = 'this batch',
): (act: tf.Tensor3D) => void {
  const budget = memoryBudget(backend).totalBytes;
  return () => {
    if (budget == null) return;
    const held = tf.memory().numBytes;
    if (held + reserveBytes > budget) {
      throw new MemoryLimitError(
        `${what} needs more than the ${asInfo(backend).name} backend can hold (${formatBytes(held)} held, ` +
          `${formatBytes(reserveBytes)} more expected, limit ${formatBytes(budget)}): use smaller batches or ${GPU_HINT}.`,
      );
    }
  };
}
