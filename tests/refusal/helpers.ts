import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../workers/engine/backend.js';
import type { ChatCodec, EncodedPrompt, Lens } from '../../workers/refusal/types.js';
import { memoryProvider, toyModel, toySae } from './toy.js';

export async function useCpu(): Promise<void> {
  await initBackend({ preference: 'cpu' });
  await tf.ready();
}

export function toyCodec(V = 32): ChatCodec {
  return {
    encodePrompt: (p: string) => [2, ...Array.from(p).map((ch) => 3 + (ch.charCodeAt(0) % (V - 3)))],
    decode: (ids: number[]) => ids.join(' '),
    refusalTokenId: 5,
    bosTokenId: 2,
    skipPrefix: 1,
    endOfTurnId: null,
  };
}

export function toyLens(opts: { seed?: number; layers?: number; d?: number; dSae?: number } = {}) {
  const d = opts.d ?? 16;
  const L = opts.layers ?? 3;
  const model = toyModel({ seed: opts.seed ?? 1, d, layers: L });
  const saes = Array.from({ length: L }, (_, l) => toySae(l, d, opts.dSae ?? 24, 100 + l));
  const provider = memoryProvider(saes);
  const lens: Lens = { model, saes: provider, codec: toyCodec(), family: 'gemma2' };
  return { lens, model, saes, provider, dispose: () => { model.dispose(); saes.forEach((s) => s.dispose()); } };
}

export function prompts(lens: Lens, texts: string[]): EncodedPrompt[] {
  return texts.map((t) => ({ text: t, ids: lens.codec.encodePrompt(t) }));
}
