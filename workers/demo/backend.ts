/**
 * Backend for demo building and evaluation: the workbench's initBackend (wasm with its kernel fixes;
 * threads default 1 here so builds are bit-reproducible — RW_DEMO_THREADS overrides; RW_BACKEND picks
 * another backend), falling back to stock tfjs wasm, then cpu.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../engine/register-gradients.js';

let chosen: string | null = null;

export async function initDemoBackend(opts: { threads?: number } = {}): Promise<string> {
  if (chosen) return chosen;
  const threads = opts.threads ?? Number(process.env.RW_DEMO_THREADS ?? 1);
  const env = process.env.RW_BACKEND?.trim().toLowerCase();
  const preference = (env || 'wasm') as 'wasm' | 'cpu' | 'webgpu' | 'tensorflow';
  try {
    const { initBackend } = await import('../engine/backend.js');
    const info = await initBackend({ preference, threads });
    return (chosen = info.description);
  } catch (e) {
    if (env) throw e;
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
