/**
 * Backend selection (workers/engine/backend.ts), the memory guard's pure logic
 * (workers/engine/memory-guard.ts) and the WebGPU helpers that do not need a GPU.
 */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BACKEND_ORDER,
  availableBackends,
  currentBackend,
  initBackend,
  isBackendName,
} from '../../workers/engine/backend.js';
import { isSoftwareAdapter, withGpuErrorScope, GpuDeviceError, type GpuDeviceLike } from '../../workers/engine/backend/webgpu.js';
import { MemoryLimitError } from '../../workers/engine/errors.js';
import { skipWithout } from '../helpers/requires.js';
import {
  GiB,
  MiB,
  WASM_HEAP_LIMIT_BYTES,
  checkCanHold,
  chunkRows,
  chunkRowsFromArray,
  chunkedGather,
  chunkedLinear,
  estimateForwardBytes,
  memoryBudget,
  parameterCount,
  rowChunks,
} from '../../workers/engine/memory-guard.js';

const savedEnv = process.env.RW_BACKEND;
afterEach(() => {
  if (savedEnv === undefined) delete process.env.RW_BACKEND;
  else process.env.RW_BACKEND = savedEnv;
});

describe('backend selection', () => {
  it('keeps the exported order and names', () => {
    expect(BACKEND_ORDER).toEqual(['tensorflow', 'webgpu', 'wasm', 'cpu']);
    expect(isBackendName('wasm')).toBe(true);
    expect(isBackendName('cuda')).toBe(false);
  });

  it('auto-selects the best available backend and describes it', async () => {
    delete process.env.RW_BACKEND;
    const info = await initBackend();
    expect(BACKEND_ORDER).toContain(info.name);
    expect(tf.getBackend()).toBe(info.name);
    expect(currentBackend()).toEqual(info);
    // Here (no tfjs-node, no hardware GPU) that is wasm; skipped faster ones are reported.
    if (info.name === 'wasm') {
      expect(info.description).toMatch(/^wasm \(SIMD, \d+ threads?\)$/);
      expect(info.skipped?.some((s) => s.startsWith('tensorflow'))).toBe(true);
    }
  });

  it('runs wasm with one thread per core in Node', async () => {
    const info = await initBackend({ preference: 'wasm' });
    const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    expect(info.threads).toBe(process.env.RW_WASM_THREADS ? Number(process.env.RW_WASM_THREADS) : cores);
    expect(info.description).toBe(`wasm (SIMD, ${info.threads} thread${info.threads === 1 ? '' : 's'})`);
    // Threads compute the same thing: a matmul big enough to be split.
    const a = tf.randomUniform([128, 96], -1, 1, 'float32', 1);
    const b = tf.randomUniform([96, 80], -1, 1, 'float32', 2);
    const w = await tf.matMul(a, b).data();
    const av = await a.data();
    const bv = await b.data();
    let maxErr = 0;
    for (const [i, j] of [[0, 0], [127, 79], [64, 33]]) {
      let s = 0;
      for (let k = 0; k < 96; k++) s += av[i * 96 + k] * bv[k * 80 + j];
      maxErr = Math.max(maxErr, Math.abs(s - w[i * 80 + j]));
    }
    expect(maxErr).toBeLessThan(1e-4);
    tf.disposeVariables();
  });

  it('honours RW_BACKEND and an explicit option, and switches back', async () => {
    process.env.RW_BACKEND = 'cpu';
    expect((await initBackend()).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect((await initBackend({ preference: 'wasm' })).name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('rejects an unknown RW_BACKEND and an unavailable preference with a clear error', async () => {
    process.env.RW_BACKEND = 'cuda';
    await expect(initBackend()).rejects.toThrow(/RW_BACKEND="cuda".*tensorflow, webgpu, wasm, cpu/);
    delete process.env.RW_BACKEND;
    const avail = await availableBackends();
    expect(avail).toContain('wasm');
    if (!avail.includes('tensorflow')) {
      await expect(initBackend({ preference: 'tensorflow' })).rejects.toThrow(/tensorflow.*not available/);
      expect(tf.getBackend()).toBe('wasm'); // unchanged
    }
  });

  it('recognises software WebGPU adapters', () => {
    expect(isSoftwareAdapter({ vendor: 'mesa', device: 'llvmpipe (LLVM 19.1.7, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'ada-lovelace', device: 'NVIDIA H100' })).toBe(false);
    expect(isSoftwareAdapter({ vendor: 'nvidia' }, true)).toBe(true);
  });
});

describe('memory guard', () => {
  it('refuses on wasm above 3.5 GiB, naming the size and suggesting a GPU backend', () => {
    expect(() => checkCanHold(3 * GiB, 'wasm', { inUseBytes: 0 })).not.toThrow();
    let err: unknown;
    try {
      checkCanHold(9.6 * GiB, 'wasm', { inUseBytes: 0, what: 'gemma-2-2b-it (2.6 B parameters)' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MemoryLimitError);
    const msg = (err as Error).message;
    expect(msg).toContain('gemma-2-2b-it (2.6 B parameters)');
    expect(msg).toContain('9.60 GiB');
    expect(msg).toContain('3.50 GiB');
    expect(msg).toMatch(/GPU backend/);
    expect(msg).toMatch(/RW_BACKEND=webgpu/);
  });

  it('counts what the backend already holds', () => {
    expect(() => checkCanHold(2 * GiB, 'wasm', { inUseBytes: 1 * GiB })).not.toThrow();
    expect(() => checkCanHold(2 * GiB, 'wasm', { inUseBytes: 2 * GiB })).toThrow(/already held/);
  });

  it('checks one tensor against the per-tensor limit', () => {
    expect(() => checkCanHold(1 * GiB, 'wasm', { inUseBytes: 0, largestTensorBytes: 2.5 * GiB })).toThrow(MemoryLimitError);
    const gpu = { name: 'webgpu' as const, description: 'webgpu', adapter: {
      description: 'x', software: false, maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 256 * MiB } };
    expect(memoryBudget(gpu).maxTensorBytes).toBe(128 * MiB);
    expect(() => checkCanHold(20 * GiB, gpu, { largestTensorBytes: 1 * GiB })).not.toThrow(); // chunked
    expect(() => checkCanHold(1 * GiB, gpu, { largestTensorBytes: 1 * GiB, chunked: false })).toThrow(/row chunks/);
    expect(() => checkCanHold(100 * GiB, 'cpu')).not.toThrow();
    expect(memoryBudget('wasm').totalBytes).toBe(WASM_HEAP_LIMIT_BYTES);
  });

  it('splits rows into balanced chunks under the limit', () => {
    expect(rowChunks(10, 4, null)).toEqual([{ start: 0, size: 10 }]);
    expect(rowChunks(10, 4, 160)).toEqual([{ start: 0, size: 10 }]);
    const c = rowChunks(10, 4, 48); // 3 rows per chunk at most → 4 chunks
    expect(c.reduce((s, x) => s + x.size, 0)).toBe(10);
    expect(c.every((x) => x.size * 16 <= 48)).toBe(true);
    expect(c.map((x) => x.start)).toEqual([0, 3, 6, 9]);
    // Gemma-2-2B embedding on lavapipe: 256000 × 2304 float32 = 2.2 GiB → 18 chunks under 128 MiB.
    const g = rowChunks(256000, 2304, 128 * MiB);
    expect(g.length).toBe(18);
    expect(Math.max(...g.map((x) => x.size * 2304 * 4))).toBeLessThanOrEqual(128 * MiB);
    expect(() => rowChunks(2, 1000, 100)).toThrow(MemoryLimitError);
  });

  it('chunked gather and linear equal the unchunked ops, gradients included', async () => {
    await initBackend({ preference: 'cpu' });
    const vals = Float32Array.from({ length: 13 * 6 }, (_, i) => Math.sin(i));
    const w = tf.tensor2d(vals, [13, 6]);
    const chunks = chunkRowsFromArray(vals, 13, 6, 5 * 6 * 4);
    expect(chunks.map((c) => c.shape[0])).toEqual([5, 5, 3]);
    const chunks2 = chunkRows(w, 5 * 6 * 4);
    expect(chunks2.length).toBe(3);
    const ids = tf.tensor2d([[0, 12, 5], [7, 4, 11]], [2, 3], 'int32');
    const x = tf.randomNormal([2, 3, 6], 0, 1, 'float32', 3);
    const ref = [tf.gather(w, ids), tf.matMul(tf.reshape(x, [6, 6]), w, false, true)];
    const got = [chunkedGather(chunks, ids), tf.reshape(chunkedLinear(x, chunks), [6, 13])];
    for (let i = 0; i < 2; i++) {
      const d = await tf.max(tf.abs(tf.sub(ref[i], got[i]))).data();
      expect(d[0]).toBeLessThan(1e-6);
    }
    const gRef = tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.matMul(tf.reshape(x, [6, 6]), t, false, true))))(w);
    const gChunk = tf.grads((...cs: tf.Tensor[]) => tf.sum(tf.square(chunkedLinear(x, cs as tf.Tensor2D[]))))(chunks);
    const d = await tf.max(tf.abs(tf.sub(gRef, tf.concat(gChunk, 0)))).data();
    expect(d[0]).toBeLessThan(1e-5);
    tf.dispose([w, ids, x, ...chunks, ...chunks2, ...ref, ...got, gRef, ...gChunk]);
    await initBackend({ preference: 'wasm' });
  });

  it('estimates parameters like the Gemma-2-2B checkpoint', () => {
    const cfg = { vocabSize: 256000, dModel: 2304, nLayers: 26, nHeads: 8, nKvHeads: 4, headDim: 256, dMlp: 9216,
      tieWordEmbeddings: true, architecture: 'gemma2' };
    const n = parameterCount(cfg);
    expect(n).toBeGreaterThan(2.60e9);
    expect(n).toBeLessThan(2.62e9); // 2,614,341,888 in the HF checkpoint
    expect(() => checkCanHold(estimateForwardBytes(cfg, 128), 'wasm', { inUseBytes: 0 })).toThrow(MemoryLimitError);
  });
});

describe('WebGPU error scopes', () => {
  function fakeDevice(errors: Array<{ message: string } | null>): GpuDeviceLike {
    const popped = [...errors];
    return {
      limits: { maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 256 * MiB },
      pushErrorScope: () => undefined,
      popErrorScope: async () => {
        const e = popped.shift() ?? null;
        return e ? { message: e.message, constructor: { name: 'GPUValidationError' } } : null;
      },
    };
  }

  it('turns a device error into an exception and passes results through otherwise', async () => {
    await expect(withGpuErrorScope(fakeDevice([null, null, null]), () => 42)).resolves.toBe(42);
    await expect(withGpuErrorScope(fakeDevice([{ message: 'binding size too large' }, null, null]), () => 1))
      .rejects.toThrow(GpuDeviceError);
    await expect(withGpuErrorScope(fakeDevice([null, null, { message: 'internal' }]), () => 1))
      .rejects.toThrow(/WebGPU internal: internal/);
    await expect(withGpuErrorScope(null, () => 'no device')).resolves.toBe('no device');
  });
});

// The WebGPU code path on whatever adapter this machine has (CI: Mesa 25 lavapipe from bookworm-backports);
// skipped where Dawn finds none.
const { probeAdapter, webgpuDevice } = await import('../../workers/engine/backend/webgpu.js');
const adapter = await probeAdapter();

describe.skipIf(
  skipWithout(adapter !== null, 'a WebGPU adapter (Vulkan; Dawn rejects Mesa 22)', 'apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1 (Mesa 25 lavapipe; .ci/run does)'),
)('webgpu backend (real adapter)', () => {
  afterEach(async () => {
    await initBackend({ preference: 'wasm' });
  });

  it('is skipped by auto-selection when software, used when named, and matches cpu', async () => {
    delete process.env.RW_BACKEND;
    const auto = await initBackend({ preference: undefined });
    if (adapter!.software) expect(auto.name).not.toBe('webgpu');
    const a = tf.randomUniform([48, 40], -1, 1, 'float32', 5);
    const b = tf.randomUniform([40, 24], -1, 1, 'float32', 6);
    await initBackend({ preference: 'cpu' });
    const ac = tf.tensor(await a.data(), a.shape);
    const bc = tf.tensor(await b.data(), b.shape);
    const ref = await tf.matMul(ac, bc, false, false).data();
    const info = await initBackend({ preference: 'webgpu' });
    expect(info.name).toBe('webgpu');
    expect(info.adapter?.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(memoryBudget(info).maxTensorBytes).toBe(info.adapter!.maxStorageBufferBindingSize);
    const ag = tf.tensor(await ac.data(), a.shape);
    const bg = tf.tensor(await bc.data(), b.shape);
    const got = await withGpuErrorScope(webgpuDevice(), async () => await tf.matMul(ag, bg).data());
    let d = 0;
    for (let i = 0; i < ref.length; i++) d = Math.max(d, Math.abs(ref[i]! - got[i]!));
    expect(d).toBeLessThan(1e-4);
    // Row chunks under a (pretend) small binding limit give the same unembedding.
    const w = tf.randomUniform([300, 40], -1, 1, 'float32', 7) as tf.Tensor2D;
    const chunks = chunkRows(w, 64 * 40 * 4);
    expect(chunks.length).toBe(5);
    const x = tf.randomUniform([3, 40], -1, 1, 'float32', 8);
    const diff = await tf.max(tf.abs(tf.sub(chunkedLinear(x, chunks), tf.matMul(x, w, false, true)))).data();
    expect(diff[0]).toBeLessThan(1e-4);
    tf.dispose([ag, bg, w, x, ...chunks]);
  });
});
