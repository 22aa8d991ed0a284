/**
 * Kernel fixes for tfjs-backend-wasm 4.22 (ENGINE-NOTES.md, "wasm in Node" item 2 and the gather gap).
 *
 * 1. `BatchMatMul`: the stock kernel only reaches XNNPACK when neither operand is transposed and both
 *    batch sizes are 1; everything else (every gradient matmul, every attention matmul) runs a scalar
 *    loop. The wrapper registered here
 *      - materialises transposed operands with the (XNNPACK-backed) Transpose kernel,
 *      - folds `[..., M, K] @ [K, N]` (b without batch) into one 2-D matmul `[B·M, K] @ [K, N]`,
 *      - runs equal-batch (and a-without-batch) products one batch at a time on XNNPACK, through
 *        zero-copy views of each batch registered with the wasm module for the duration of the call,
 *      - leaves true broadcasting (batch shapes that differ and are not 1) to the stock kernel.
 * 2. `UnsortedSegmentSum`: not implemented on wasm, so `tf.gather` has no gradient there (the embedding
 *    gradient needs it). Registered here as a plain JS kernel over the wasm heap.
 *
 * Both match the cpu backend to float32 rounding (tests/engine/kernels.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { touchWasmWorkers } from './wasm-threads.js';

type TensorInfo = tf.TensorInfo;

/** The parts of tfjs-backend-wasm's BackendWasm this module uses (not in its public typings). */
interface WasmBackendLike {
  dataIdNextNumber: number;
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number; shape: number[]; dtype: string } };
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  wasm: {
    cwrap(name: string, ret: null | string, args: string[]): (...a: unknown[]) => unknown;
    tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
  };
}

type Kernel = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) =>
  TensorInfo | TensorInfo[];

const installed = new WeakSet<object>();
const cwrapped = new WeakMap<object, (...a: unknown[]) => unknown>();

function prod(shape: readonly number[]): number {
  let p = 1;
  for (const d of shape) p *= d;
  return p;
}

function shapeBytes(shape: number[]): Uint8Array {
  return new Uint8Array(new Int32Array(shape).buffer);
}

function rawBatchMatMul(backend: WasmBackendLike): (...a: unknown[]) => unknown {
  let f = cwrapped.get(backend);
  if (!f) {
    f = backend.wasm.cwrap('BatchMatMul', null, [
      'number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number',
    ]);
    cwrapped.set(backend, f);
  }
  return f;
}

function transposeLast2(transposeK: Kernel, x: TensorInfo, backend: unknown): TensorInfo {
  const r = x.shape.length;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return transposeK({ inputs: { x }, backend, attrs: { perm } }) as TensorInfo;
}

/** Counters for tests and the benchmark: which path each BatchMatMul took. */
export const batchMatMulStats = { folded: 0, perBatch: 0, stock: 0 };

/**
 * Tuning: `enabled` false routes everything to the stock kernel (for comparisons); batched products whose
 * per-batch work is below `perBatchMinMacs` multiply-adds stay on the stock loop, where one call beats
 * many small XNNPACK calls (e.g. a decoding step's attention: 2 query rows per batch).
 */
export const batchMatMulOptions = { enabled: true, perBatchMinMacs: 32768 };

function makeBatchMatMul(stock: Kernel, transposeK: Kernel): Kernel {
  return (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = (args.attrs ?? {}) as { transposeA: boolean; transposeB: boolean };
    const backend = args.backend as WasmBackendLike;
    touchWasmWorkers();
    if (!batchMatMulOptions.enabled || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) {
      batchMatMulStats.stock++;
      return stock(args);
    }
    const temps: TensorInfo[] = [];
    try {
      const aT = transposeA ? transposeLast2(transposeK, a, backend) : a;
      if (transposeA) temps.push(aT);
      const bT = transposeB ? transposeLast2(transposeK, b, backend) : b;
      if (transposeB) temps.push(bT);
      const ra = aT.shape.length;
      const rb = bT.shape.length;
      const M = aT.shape[ra - 2];
      const K = aT.shape[ra - 1];
      const K2 = bT.shape[rb - 2];
      const N = bT.shape[rb - 1];
      if (K !== K2) {
        throw new Error(
          `Error in matMul: inner shapes (${K}) and (${K2}) of Tensors with shapes ${a.shape} and ` +
            `${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
        );
      }
      const batchShapeA = aT.shape.slice(0, -2);
      const batchShapeB = bT.shape.slice(0, -2);
      const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(batchShapeA, batchShapeB);
      const outShape = [...outBatch, M, N];
      const batchA = prod(batchShapeA);
      const batchB = prod(batchShapeB);
      const noInputs = { transposeA: false, transposeB: false };

      if (batchB === 1) {
        // [..., M, K] @ [K, N] → one [batchA·M, K] @ [K, N] on XNNPACK.
        batchMatMulStats.folded++;
        const out = stock({
          inputs: {
            a: { dataId: aT.dataId, shape: [1, batchA * M, K], dtype: 'float32' },
            b: { dataId: bT.dataId, shape: [1, K, N], dtype: 'float32' },
          },
          backend,
          attrs: noInputs,
        }) as TensorInfo;
        return { ...out, shape: outShape };
      }
      const sameBatch = batchA === batchB && batchShapeA.length === batchShapeB.length &&
        batchShapeA.every((d, i) => d === batchShapeB[i]);
      if ((!sameBatch && batchA !== 1) || M * K * N < batchMatMulOptions.perBatchMinMacs) {
        // True broadcasting between different batch shapes: the stock kernel handles it (slowly).
        batchMatMulStats.stock++;
        return stock({ inputs: { a: aT, b: bT }, backend, attrs: noInputs });
      }
      // One XNNPACK matmul per batch, through views registered on the wasm heap for this call.
      batchMatMulStats.perBatch++;
      const batch = batchB;
      const out = backend.makeOutput(outShape, 'float32');
      const aOff = backend.dataIdMap.get(aT.dataId).memoryOffset;
      const bOff = backend.dataIdMap.get(bT.dataId).memoryOffset;
      const oOff = backend.dataIdMap.get(out.dataId).memoryOffset;
      const mm = rawBatchMatMul(backend);
      const aShape = shapeBytes([1, M, K]);
      const bShape = shapeBytes([1, K, N]);
      const reg = backend.wasm.tfjs;
      for (let i = 0; i < batch; i++) {
        const va = backend.dataIdNextNumber++;
        const vb = backend.dataIdNextNumber++;
        const vo = backend.dataIdNextNumber++;
        reg.registerTensor(va, M * K, aOff + (batchA === 1 ? 0 : i * M * K * 4));
        reg.registerTensor(vb, K * N, bOff + i * K * N * 4);
        reg.registerTensor(vo, M * N, oOff + i * M * N * 4);
        try {
          mm(va, aShape, 3, vb, bShape, 3, false, false, vo);
        } finally {
          // Unregisters the views (and XNNPACK operators cached for them); memory stays with its owner.
          reg.disposeData(va);
          reg.disposeData(vb);
          reg.disposeData(vo);
        }
      }
      return out;
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };
}

/** JS UnsortedSegmentSum over the wasm heap: out[s, ...] = Σ_{i: ids[i] = s} x[i, ...]. */
const unsortedSegmentSum: Kernel = (args) => {
  const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = (args.attrs ?? {}) as { numSegments: number };
  const backend = args.backend as WasmBackendLike;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum (wasm): dtype ${x.dtype} not supported`);
  }
  const n = prod(segmentIds.shape);
  const inner = n === 0 ? 0 : prod(x.shape) / n;
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const out = backend.makeOutput([numSegments, ...innerShape], x.dtype);
  // Views are taken after makeOutput: malloc may grow (and replace) the heap buffer.
  const xs = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  const os = backend.typedArrayFromHeap(out);
  os.fill(0);
  for (let i = 0; i < n; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue; // TF drops out-of-range ids
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) os[dst + j] += xs[src + j];
  }
  return out;
};

/**
 * Registers the fixed kernels for the 'wasm' backend. Idempotent. Call after the wasm backend package
 * has been imported (its kernels are registered at import).
 */
export function installWasmKernelFixes(): void {
  const stockBmm = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!stockBmm || !transpose) throw new Error('installWasmKernelFixes: the wasm backend is not loaded');
  if (!installed.has(stockBmm.kernelFunc)) {
    const wrapped = makeBatchMatMul(stockBmm.kernelFunc as Kernel, transpose.kernelFunc as Kernel);
    installed.add(wrapped);
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel({
      kernelName: 'BatchMatMul',
      backendName: 'wasm',
      setupFunc: stockBmm.setupFunc,
      kernelFunc: wrapped as tf.KernelFunc,
    });
  }
  if (!tf.getKernel('UnsortedSegmentSum', 'wasm')) {
    tf.registerKernel({
      kernelName: 'UnsortedSegmentSum',
      backendName: 'wasm',
      kernelFunc: unsortedSegmentSum as tf.KernelFunc,
    });
  }
}
