/**
 * Memory planner (issue 10 item 2): peak bytes of a discovery run from the model config, the SAE files
 * (header sizes), batch × sequence length and the path (shortcut: model + one SAE; literal: every SAE),
 * and the largest batch that fits a cap. Estimates are float32 and deliberately a little generous.
 */
import type { ModelConfig } from '../model/types.js';

export interface MemoryInputs {
  config: ModelConfig;
  /** float32 bytes of the model weights. */
  modelBytes: number;
  /** float32 bytes of each SAE layer (from file headers). */
  saeLayerBytes: number[];
  /** SAE width (largest), for per-layer projection buffers. */
  dSae: number;
  seqLen: number;
  /** Attribution path. */
  path: 'shortcut' | 'literal';
  /** Tokens generated per prompt (clamped generation). */
  newTokens?: number;
}

export interface MemoryPlan {
  batch: number;
  peakBytes: number;
  parts: { model: number; saes: number; attribution: number; generation: number };
}

export function planMemory(m: MemoryInputs, batch: number): MemoryPlan {
  const c = m.config;
  const B = batch, T = m.seqLen, d = c.dModel, L = c.nLayers, f = 4;
  const saeMax = Math.max(0, ...m.saeLayerBytes);
  const saes = m.path === 'shortcut' ? saeMax : m.saeLayerBytes.reduce((a, b) => a + b, 0);
  // cached residuals: ablated, clean, target (compat), ḡ accumulator → 4 × L × B × T × d
  const caches = 4 * L * B * T * d * f;
  // Tape of one gradient pass. tfjs keeps every elementwise intermediate (GeGLU/tanh, RMSNorm, RoPE,
  // soft-capping) and wasm copies on reshape/identity: calibrated against bench:discovery's measured
  // bare gradient pass (708 MB for 4 × 24 tokens on 8 layers, d 1024, d_mlp 4096 ≈ 40·d + 45·d_mlp floats
  // per token and layer), not the ~10·d + 3·d_mlp a framework that frees eagerly would need.
  const tapePerLayer = B * T * (40 * d + 45 * c.dMlp + 3 * c.nHeads * T) * f;
  const splice = m.path === 'literal' ? L * B * T * m.dSae * f * 5 : 0;
  const tape = L * tapePerLayer + 3 * B * T * c.vocabSize * f + splice;
  // per-layer projection: fP, fC, Δ, grad_f, attr [B,T,dSae]
  const projection = 5 * B * T * m.dSae * f;
  const attribution = caches + Math.max(tape, projection);
  const Tg = T + (m.newTokens ?? 64);
  const kv = 2 * L * B * Tg * c.nKvHeads * c.headDim * f;
  const generation = kv + B * Tg * (6 * d + 3 * c.dMlp + 2 * c.nHeads * Tg + c.vocabSize) * f;
  const act = Math.max(attribution, generation);
  return { batch, peakBytes: m.modelBytes + saes + act, parts: { model: m.modelBytes, saes, attribution, generation } };
}

/** Largest batch ≤ maxBatch whose plan fits `capBytes`; null when even batch 1 does not. */
export function pickBatchSize(m: MemoryInputs, capBytes: number, maxBatch = 64): MemoryPlan | null {
  let best: MemoryPlan | null = null;
  for (let b = 1; b <= maxBatch; b++) {
    const p = planMemory(m, b);
    if (p.peakBytes > capBytes) break;
    best = p;
  }
  return best;
}

export function formatBytes(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 2 : 0)} ${u[i]}`;
}

/** Default cap for a backend: wasm heap 3.5 GiB; otherwise none known (Infinity). */
export function backendCapBytes(backend: string): number {
  return backend === 'wasm' ? 3.5 * 1024 ** 3 : Number.POSITIVE_INFINITY;
}
