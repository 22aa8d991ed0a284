/**
 * Backend for demo building and evaluation: the workbench's wasm set-up (kernel fixes; threads as
 * asked, default 1 so builds are bit-reproducible), falling back to stock tfjs wasm, then cpu.
 * RW_BACKEND=cpu forces the pure-JS backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../engine/register-gradients.js';

let chosen: string | null = null;

export async function initDemoBackend(opts: { threads?: number } = {}): Promise<string> {
  if (chosen) return chosen;
  const want = process.env.RW_BACKEND?.trim().toLowerCase();
  if (want === 'cpu') {
    await tf.setBackend('cpu');
    return (chosen = 'cpu');
  }
  const threads = opts.threads ?? Number(process.env.RW_DEMO_THREADS ?? 1);
  try {
    const { initWasm } = await import('../engine/backend/wasm.js');
    const r = await initWasm({ threads });
    if (r) return (chosen = `wasm (workbench set-up, simd ${r.simd}, ${r.threads} thread${r.threads === 1 ? '' : 's'})`);
  } catch {
    /* fall through */
  }
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    if (await tf.setBackend('wasm')) {
      await tf.ready();
      return (chosen = 'wasm (stock)');
    }
  } catch {
    /* fall through */
  }
  await tf.setBackend('cpu');
  return (chosen = 'cpu');
}
