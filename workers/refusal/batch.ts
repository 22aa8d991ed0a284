/** Left-padded batches and the one position mask every aggregating method uses (W12/W13). */
import type { TokenBatch } from '../model/types.js';

export interface PaddedBatch extends TokenBatch {
  inputIds: number[][];
  attentionMask: number[][];
  /** Number of pad slots at the start of each row. */
  padLeft: number[];
  T: number;
}

export function leftPad(seqs: number[][], padId: number): PaddedBatch {
  const T = Math.max(1, ...seqs.map((s) => s.length));
  const inputIds: number[][] = [];
  const attentionMask: number[][] = [];
  const padLeft: number[] = [];
  for (const s of seqs) {
    const p = T - s.length;
    padLeft.push(p);
    inputIds.push([...new Array(p).fill(padId), ...s]);
    attentionMask.push([...new Array(p).fill(0), ...new Array(s.length).fill(1)]);
  }
  return { inputIds, attentionMask, padLeft, T };
}

export function chunks<T>(xs: T[], size: number): T[][] {
  const out: T[][] = [];
  const n = Math.max(1, Math.floor(size));
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/**
 * W13 mask: 1 for non-pad slots from (first real token + skipPrefix) onward. Compat 'all' keeps every slot
 * (pads and BOS included, as the reference's 'la' mean does).
 */
export function positionMask(batch: PaddedBatch, skipPrefix: number, rule: 'default' | 'all' = 'default'): number[][] {
  return batch.inputIds.map((row, b) =>
    row.map((_, t) => (rule === 'all' ? 1 : t >= batch.padLeft[b] + skipPrefix ? 1 : 0)),
  );
}

/** Deterministic PRNG (mulberry32) for seeded choices: the shared one. */
export { mulberry32 as rng } from '../../common/suites/ops.js';
