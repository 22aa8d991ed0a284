/**
 * Backend selection at start-up. Best available first: tensorflow (tfjs-node-gpu, tfjs-node),
 * webgpu, wasm, cpu. Overridable by option or RW_BACKEND. The chosen backend is reported in results.
 * (Minimal version: wasm/cpu; the threaded wasm and GPU paths are layered on in backend/.)
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export const BACKEND_ORDER: BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

export interface BackendInfo {
  name: BackendName;
  /** Human description, e.g. "wasm (SIMD, 2 threads)". */
  description: string;
}

let current: BackendInfo | null = null;

export function currentBackend(): BackendInfo {
  if (!current) throw new Error('backend not initialised: call initBackend() first');
  return current;
}

async function tryWasm(): Promise<BackendInfo | null> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) return null;
    await tf.ready();
    return { name: 'wasm', description: 'wasm (SIMD)' };
  } catch {
    return null;
  }
}

export async function initBackend(opts: { preference?: BackendName } = {}): Promise<BackendInfo> {
  const pref = opts.preference ?? (process.env.RW_BACKEND as BackendName | undefined);
  if (current && (!pref || current.name === pref)) return current;
  const order = pref ? [pref] : BACKEND_ORDER;
  for (const name of order) {
    let info: BackendInfo | null = null;
    if (name === 'wasm') info = await tryWasm();
    else if (name === 'cpu') {
      await tf.setBackend('cpu');
      await tf.ready();
      info = { name: 'cpu', description: 'cpu (pure JS)' };
    }
    if (info) {
      current = info;
      return info;
    }
  }
  throw new Error(`backend "${pref}" is not available here (tried: ${order.join(', ')})`);
}
