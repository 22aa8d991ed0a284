/** Rotary position tables, computed in float32 the way HF does (incl. llama3 frequency rescaling). */
import type { ModelConfig } from './types.js';

const f = Math.fround;

export function inverseFrequencies(cfg: ModelConfig): Float32Array {
  const half = cfg.headDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = f(1 / f(Math.pow(cfg.ropeTheta, f((2 * i) / cfg.headDim))));
  const s = cfg.ropeScaling;
  if (!s) return inv;
  // transformers modeling_rope_utils._compute_llama3_parameters
  const lowWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
  const highWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
  for (let i = 0; i < half; i++) {
    const freq = inv[i]!;
    const wavelen = f((2 * Math.PI) / freq);
    let scaled = wavelen > lowWavelen ? f(freq / s.factor) : freq;
    const isMedium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
    if (isMedium) {
      const smooth = f((s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor));
      scaled = f(f((1 - smooth) * f(scaled / s.factor)) + f(smooth * scaled));
    }
    inv[i] = scaled;
  }
  return inv;
}

/** cos and sin tables [B, 1, T, headDim] (cat(freqs, freqs) layout) for the given positions. */
export function ropeTables(inv: Float32Array, positions: number[][], headDim: number): { cos: Float32Array; sin: Float32Array } {
  const B = positions.length;
  const T = positions[0]?.length ?? 0;
  const half = headDim / 2;
  const cos = new Float32Array(B * T * headDim);
  const sin = new Float32Array(B * T * headDim);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const p = positions[b]![t]!;
      const base = (b * T + t) * headDim;
      for (let i = 0; i < half; i++) {
        const a = f(inv[i]! * p);
        const c = Math.cos(a);
        const s = Math.sin(a);
        cos[base + i] = c;
        cos[base + half + i] = c;
        sin[base + i] = s;
        sin[base + half + i] = s;
      }
    }
  }
  return { cos, sin };
}
