/**
 * Backend selection at start-up. Best available first: tensorflow (tfjs-node-gpu, tfjs-node), webgpu,
 * wasm (SIMD + threads), cpu. Overridable by option or RW_BACKEND. The chosen backend is reported in
 * results through `currentBackend()`.
 *
 * - tensorflow: optional packages, imported dynamically; a failed import just skips them.
 * - webgpu: in Node through the npm `webgpu` package (backend/webgpu.ts). Auto-selection skips software
 *   adapters (lavapipe, SwiftShader: slower than wasm); name it explicitly (RW_BACKEND=webgpu) to use one.
 * - wasm: threads in Node and the BatchMatMul / UnsortedSegmentSum fixes (backend/wasm*.ts).
 * - cpu: pure JS, a numerical oracle only.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// Gradients of every op (tfjs-core's main entry does not register them; the registry is global).
import './register-gradients.js';
import { initWasm } from './backend/wasm.js';
import {
  hasVulkanLoader,
  installUncapturedErrorHandler,
  probeAdapter,
  webgpuDevice,
  type AdapterSummary,
} from './backend/webgpu.js';

export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export const BACKEND_ORDER: BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

export interface BackendInfo {
  name: BackendName;
  /** Human description, e.g. "wasm (SIMD, 2 threads)". */
  description: string;
  /** Threads used by the backend's kernels where it is known (wasm). */
  threads?: number;
  /** WebGPU adapter, when name is 'webgpu'. */
  adapter?: AdapterSummary;
  /** Why a faster backend was not chosen (auto-selection only). */
  skipped?: string[];
}

export interface InitBackendOptions {
  /** Use exactly this backend (else RW_BACKEND, else best available). */
  preference?: BackendName;
  /** wasm threads (default: cores; RW_WASM_THREADS). */
  threads?: number;
  /** Let auto-selection take a software WebGPU adapter (default false; RW_ALLOW_SOFTWARE_GPU=1). */
  allowSoftwareGpu?: boolean;
}

let current: BackendInfo | null = null;
const cache = new Map<BackendName, BackendInfo>();

export function currentBackend(): BackendInfo {
  if (!current) throw new Error('backend not initialised: call initBackend() first');
  return current;
}

export function isBackendName(s: string): s is BackendName {
  return (BACKEND_ORDER as string[]).includes(s);
}

function envPreference(): BackendName | undefined {
  const v = typeof process !== 'undefined' ? process.env.RW_BACKEND?.trim().toLowerCase() : undefined;
  if (!v) return undefined;
  if (!isBackendName(v)) {
    throw new Error(`RW_BACKEND="${v}" is not a backend; choose one of ${BACKEND_ORDER.join(', ')}`);
  }
  return v;
}

async function tryTensorflow(): Promise<{ info: BackendInfo | null; why?: string }> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      if (!tf.findBackendFactory('tensorflow')) await import(/* @vite-ignore */ pkg);
      if (!tf.findBackendFactory('tensorflow')) continue; // registered on another tfjs-core copy
      if (!(await tf.setBackend('tensorflow'))) continue;
      await tf.ready();
      const gpu = pkg.endsWith('-gpu');
      return { info: { name: 'tensorflow', description: `tensorflow (libtensorflow${gpu ? ', CUDA' : ', CPU'}, ${pkg})` } };
    } catch {
      /* not installed or libtensorflow missing */
    }
  }
  return { info: null, why: 'tensorflow: @tensorflow/tfjs-node(-gpu) not installed' };
}

async function tryWebgpu(explicit: boolean, allowSoftware: boolean): Promise<{ info: BackendInfo | null; why?: string }> {
  const adapter = await probeAdapter();
  if (!adapter) {
    return {
      info: null,
      why: hasVulkanLoader() ? 'webgpu: no adapter' : 'webgpu: no Vulkan loader (libvulkan.so.1) for Dawn',
    };
  }
  if (adapter.software && !explicit && !allowSoftware) {
    return { info: null, why: `webgpu: software adapter (${adapter.description}) skipped, slower than wasm` };
  }
  try {
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) return { info: null, why: 'webgpu: backend init failed' };
    await tf.ready();
  } catch (e) {
    return { info: null, why: `webgpu: ${(e as Error)?.message ?? e}` };
  }
  const device = webgpuDevice();
  if (device) installUncapturedErrorHandler(device);
  const limit = device ? Number(device.limits.maxStorageBufferBindingSize) : adapter.maxStorageBufferBindingSize;
  adapter.maxStorageBufferBindingSize = limit;
  return {
    info: {
      name: 'webgpu',
      description: `webgpu (${adapter.description}${adapter.software ? ', software' : ''})`,
      adapter,
    },
  };
}

async function tryWasm(threads?: number): Promise<{ info: BackendInfo | null; why?: string }> {
  try {
    const r = await initWasm({ threads });
    if (!r) return { info: null, why: 'wasm: init failed' };
    const parts = [r.simd ? 'SIMD' : 'no SIMD', `${r.threads} thread${r.threads === 1 ? '' : 's'}`];
    return { info: { name: 'wasm', description: `wasm (${parts.join(', ')})`, threads: r.threads } };
  } catch (e) {
    return { info: null, why: `wasm: ${(e as Error)?.message ?? e}` };
  }
}

async function tryBackend(name: BackendName, explicit: boolean, opts: InitBackendOptions) {
  const cached = cache.get(name);
  if (cached) {
    if (name === 'wasm') return tryWasm(opts.threads); // re-activates (initialised once)
    if (await tf.setBackend(name)) return { info: cached };
    return { info: null, why: `${name}: could not re-activate` };
  }
  switch (name) {
    case 'tensorflow':
      return tryTensorflow();
    case 'webgpu':
      return tryWebgpu(explicit, opts.allowSoftwareGpu ?? process.env.RW_ALLOW_SOFTWARE_GPU === '1');
    case 'wasm':
      return tryWasm(opts.threads);
    case 'cpu':
      await tf.setBackend('cpu');
      await tf.ready();
      return { info: { name: 'cpu' as const, description: 'cpu (pure JS)' } };
  }
}

/**
 * Chooses and activates the backend. With a preference (option or RW_BACKEND) only that one is tried
 * and failure throws; otherwise the best available in BACKEND_ORDER. Calling again with another
 * preference switches the active backend (tensors of the previous one stay on it).
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const pref = opts.preference ?? envPreference();
  if (current && (!pref || current.name === pref) && tf.getBackend() === current.name) return current;
  const order = pref ? [pref] : BACKEND_ORDER;
  const skipped: string[] = [];
  for (const name of order) {
    const { info, why } = await tryBackend(name, pref != null, opts);
    if (info) {
      cache.set(name, info);
      current = skipped.length ? { ...info, skipped } : info;
      return current;
    }
    if (why) skipped.push(why);
  }
  throw new Error(
    `backend "${pref ?? 'any'}" is not available here (tried: ${order.join(', ')})` +
      (skipped.length ? `: ${skipped.join('; ')}` : ''),
  );
}

/**
 * Backends that can be activated here, best first, without activating any (webgpu probes the adapter;
 * tensorflow checks that the package resolves). Software WebGPU adapters are listed: they work.
 */
export async function availableBackends(): Promise<BackendName[]> {
  const out: BackendName[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      const { createRequire } = await import('node:module');
      createRequire(import.meta.url).resolve(pkg);
      out.push('tensorflow');
      break;
    } catch {
      /* absent */
    }
  }
  if (await probeAdapter()) out.push('webgpu');
  out.push('wasm', 'cpu');
  return out;
}
