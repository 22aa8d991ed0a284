/**
 * tfjs-backend-wasm set-up: SIMD, threads in Node (wasm-threads.ts), the kernel fixes (wasm-kernels.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { installWasmKernelFixes } from './wasm-kernels.js';
import { installWasmThreadsPatch } from './wasm-threads.js';

export interface WasmInitOptions {
  /** Threads for XNNPACK; default: the number of cores (RW_WASM_THREADS overrides; 1 disables threads). */
  threads?: number;
}

export interface WasmInitResult {
  simd: boolean;
  threads: number;
  /** Why threads are off, when they are. */
  threadsNote?: string;
}

const isNode =
  typeof process !== 'undefined' && typeof process.versions?.node === 'string' &&
  typeof (globalThis as { window?: unknown }).window === 'undefined';

export function defaultWasmThreads(): number {
  const env = typeof process !== 'undefined' ? process.env.RW_WASM_THREADS : undefined;
  if (env && /^\d+$/.test(env)) return Math.max(1, Number(env));
  const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, n);
}

type WasmModule = typeof import('@tensorflow/tfjs-backend-wasm');

let wasmModule: WasmModule | null = null;
let result: WasmInitResult | null = null;

/** Sets the 'wasm' backend active, initialising it (with threads in Node) the first time. */
export async function initWasm(opts: WasmInitOptions = {}): Promise<WasmInitResult | null> {
  if (result) {
    if (!(await tf.setBackend('wasm'))) return null;
    return result;
  }
  wasmModule = await import('@tensorflow/tfjs-backend-wasm');
  installWasmKernelFixes();
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const want = opts.threads ?? defaultWasmThreads();
  let threadsNote: string | undefined;

  if (isNode && want > 1 && simd && typeof SharedArrayBuffer !== 'undefined') {
    const req = createRequire(import.meta.url);
    const bundleDir = path.dirname(req.resolve('@tensorflow/tfjs-backend-wasm'));
    const patch = installWasmThreadsPatch(bundleDir);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasmModule.setThreadsCount(want);
    let ok = false;
    try {
      ok = await tf.setBackend('wasm');
    } catch (e) {
      threadsNote = `threaded init failed: ${(e as Error)?.message ?? e}`;
    } finally {
      patch.restore();
    }
    if (ok) {
      await tf.ready();
      result = { simd, threads: wasmModule.getThreadsCount() };
      return result;
    }
    threadsNote ??= 'threaded init failed';
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    wasmModule.setThreadsCount(1);
  } else if (!isNode) {
    // Browsers / Electron renderers: tfjs detects threads itself (needs cross-origin isolation).
    wasmModule.setThreadsCount(want);
  } else if (want <= 1) {
    threadsNote = 'threads disabled';
  } else if (!simd) {
    threadsNote = 'no SIMD: threaded build needs it';
  }
  if (!(await tf.setBackend('wasm'))) return null;
  await tf.ready();
  result = { simd, threads: wasmModule.getThreadsCount(), threadsNote };
  return result;
}
