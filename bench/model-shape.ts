/**
 * The benchmark's synthetic model: Gemma-2-2B's architecture scaled down (issue 2 item 9), and FLOP counts
 * (a multiply-add is 2 FLOPs; attention is counted over the full T×T score matrix that is computed).
 * bench/torch_ref.py uses the same shape and the same formulas.
 */
import type { ModelConfig } from '../workers/model/types.js';

export const BENCH_SHAPE = {
  nLayers: 8,
  dModel: 1024,
  nHeads: 8,
  nKvHeads: 4,
  headDim: 128,
  dMlp: 4096,
  vocabSize: 32000,
  batch: 8,
  seq: 64,
} as const;

export function benchConfig(): ModelConfig {
  const s = BENCH_SHAPE;
  return {
    architecture: 'gemma2',
    hfArchitecture: 'Gemma2ForCausalLM',
    vocabSize: s.vocabSize,
    dModel: s.dModel,
    nLayers: s.nLayers,
    nHeads: s.nHeads,
    nKvHeads: s.nKvHeads,
    headDim: s.headDim,
    dMlp: s.dMlp,
    rmsNormEps: 1e-6,
    ropeTheta: 10000,
    ropeScaling: null,
    slidingWindow: 4096,
    queryPreAttnScalar: s.headDim,
    attnLogitSoftcapping: 50,
    finalLogitSoftcapping: 30,
    tieWordEmbeddings: true,
    hiddenAct: 'gelu_pytorch_tanh',
    maxPositionEmbeddings: 8192,
    bosTokenId: 2,
    eosTokenIds: [1],
    padTokenId: 0,
  };
}

/** Per-layer projection parameters (q, k, v, o, gate, up, down). */
function layerLinearParams(): number {
  const s = BENCH_SHAPE;
  return s.dModel * s.headDim * (2 * s.nHeads + 2 * s.nKvHeads) + 3 * s.dModel * s.dMlp;
}

/** Attention matmul FLOPs of one layer for `t` query positions against `ctx` keys, one sequence. */
function attnFlops(t: number, ctx: number): number {
  const s = BENCH_SHAPE;
  return 2 * 2 * s.nHeads * s.headDim * t * ctx;
}

export function forwardFlops(batch: number = BENCH_SHAPE.batch, seq: number = BENCH_SHAPE.seq): number {
  const s = BENCH_SHAPE;
  const perTok = 2 * (s.nLayers * layerLinearParams() + s.dModel * s.vocabSize);
  return batch * seq * perTok + batch * s.nLayers * attnFlops(seq, seq);
}

/**
 * Backward from a scalar of the logits to every resid_post (activation gradients only: weights are not
 * differentiated). The gradient reaches blocks.0.hook_resid_post, so layer 0 itself is not traversed;
 * each traversed linear costs its forward again (dX = dY·Wᵀ), attention twice (dQ, dK, dV, dP).
 */
export function backwardFlops(batch: number = BENCH_SHAPE.batch, seq: number = BENCH_SHAPE.seq): number {
  const s = BENCH_SHAPE;
  const perTok = 2 * ((s.nLayers - 1) * layerLinearParams() + s.dModel * s.vocabSize);
  return batch * seq * perTok + batch * (s.nLayers - 1) * 2 * attnFlops(seq, seq);
}

/** One cached decoding step: one new token per sequence attending to `ctx` keys (itself included). */
export function decodeStepFlops(ctx: number, batch: number = BENCH_SHAPE.batch): number {
  const s = BENCH_SHAPE;
  const perTok = 2 * (s.nLayers * layerLinearParams() + s.dModel * s.vocabSize);
  return batch * perTok + batch * s.nLayers * attnFlops(1, ctx);
}

export function weightParams(): number {
  const s = BENCH_SHAPE;
  return s.nLayers * (layerLinearParams() + 4 * s.dModel) + s.vocabSize * s.dModel + s.dModel;
}

/** The roofline matmul: [512, 1024] @ [1024, 4096], the MLP up-projection of the benchmark batch. */
export const ROOFLINE = { m: 512, k: 1024, n: 4096 } as const;
