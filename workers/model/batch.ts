/** Left-padded batches: attention masks and the position ids HF's generate uses. */
import type { TokenBatch } from './types.js';

export interface PreparedBatch {
  inputIds: number[][];
  attentionMask: number[][];
  positionIds: number[][];
  B: number;
  T: number;
}

/** Default position ids: cumsum(mask) − 1, pads set to 1 (HF prepare_inputs_for_generation). */
export function defaultPositions(mask: number[][]): number[][] {
  return mask.map((row) => {
    let c = 0;
    return row.map((m) => {
      c += m;
      return m ? c - 1 : 1;
    });
  });
}

export function prepareBatch(batch: TokenBatch): PreparedBatch {
  const B = batch.inputIds.length;
  if (B === 0) throw new Error('empty batch');
  const T = batch.inputIds[0]!.length;
  for (const row of batch.inputIds) if (row.length !== T) throw new Error('input_ids rows differ in length: left-pad them (see leftPad)');
  const attentionMask = batch.attentionMask ?? batch.inputIds.map((r) => r.map(() => 1));
  if (attentionMask.length !== B || attentionMask.some((r) => r.length !== T)) throw new Error('attention_mask shape does not match input_ids');
  const positionIds = batch.positionIds ?? defaultPositions(attentionMask);
  if (positionIds.length !== B || positionIds.some((r) => r.length !== T)) throw new Error('position_ids shape does not match input_ids');
  return { inputIds: batch.inputIds, attentionMask, positionIds, B, T };
}

/** Left-pad sequences of different lengths into one batch. */
export function leftPad(sequences: number[][], padId: number): TokenBatch {
  const T = Math.max(...sequences.map((s) => s.length));
  const inputIds = sequences.map((s) => [...new Array<number>(T - s.length).fill(padId), ...s]);
  const attentionMask = sequences.map((s) => [...new Array<number>(T - s.length).fill(0), ...new Array<number>(s.length).fill(1)]);
  return { inputIds, attentionMask, positionIds: defaultPositions(attentionMask) };
}
