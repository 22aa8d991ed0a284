/**
 * Induced refusal on harmless prompts (§2.10 / §7.2): features *set* to v (a sweep of v) at every position
 * and decoding step, compared with activation addition of V_R at ℓ* (the refusal-inducing AS).
 */
import { generateUnder, refusalRate, type RefusalJudge, type Generation } from './generate.js';
import type { ClampPositions } from './hooks.js';
import type { EncodedPrompt, FeatureSets, Lens, StepCtx } from './types.js';

export interface InduceRow {
  v: number;
  rate: number;
}

export async function inducedRefusalSweep(
  lens: Lens,
  p: {
    prompts: EncodedPrompt[];
    sets: FeatureSets;
    values: number[];
    judge: RefusalJudge;
    maxNewTokens?: number;
    batchSize?: number;
    positions?: ClampPositions;
    path?: 'sparse' | 'literal';
    /** Also measure activation addition of this direction at this layer (coefficient 1). */
    actAdd?: { direction: Float32Array; layer: number };
  },
  ctx: StepCtx,
): Promise<{ rows: InduceRow[]; actAddRate: number | null; generations: Record<string, Generation[]> }> {
  const rows: InduceRow[] = [];
  const generations: Record<string, Generation[]> = {};
  for (const v of p.values) {
    const g = await generateUnder(
      lens,
      { prompts: p.prompts, condition: { kind: 'clamp', sets: p.sets, edit: { mode: 'set', v }, positions: p.positions, path: p.path }, maxNewTokens: p.maxNewTokens, batchSize: p.batchSize },
      ctx,
    );
    generations[`set-${v}`] = g;
    rows.push({ v, rate: (await refusalRate(p.judge, g)).rate });
  }
  let actAddRate: number | null = null;
  if (p.actAdd) {
    const g = await generateUnder(
      lens,
      { prompts: p.prompts, condition: { kind: 'actadd', direction: p.actAdd.direction, layer: p.actAdd.layer }, maxNewTokens: p.maxNewTokens, batchSize: p.batchSize },
      ctx,
    );
    generations.actadd = g;
    actAddRate = (await refusalRate(p.judge, g)).rate;
  }
  return { rows, actAddRate, generations };
}
