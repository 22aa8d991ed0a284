/**
 * Harm categories (paper §4.2): per-category K* selection with the main pipeline's direction layer, pool
 * and K*; common (refusal) vs specific (harm) sets; clamping the specific set with the common set
 * retained, the common set alone, the union, and cross-category transfer; judged refusal rates with the
 * number of prompts behind each, and how much clamping the specific set lowers the common features and
 * P(refusal token).
 */
import { z } from 'zod';
import { SubstringJudge } from '../eval/judges/substring.js';
import { laIg } from '../refusal/attribution.js';
import { encodePrompts, filterByFirstToken } from '../refusal/data.js';
import { layerSweep, refusalDirection } from '../refusal/direction.js';
import { stopTokens } from '../refusal/generate.js';
import { cosinePool } from '../refusal/pool.js';
import { selectFeatures } from '../refusal/selection.js';
import { checkAbort, type EncodedPrompt, type FeatureSet, type Lens, type StepCtx } from '../refusal/types.js';
import { clampEffect, generateWithRetention, type Edit, type Intervention, type RetentionMode } from './retention.js';
import { categorySets, type CategorySets, type RankedFeature } from './sets.js';

import { CategoriesParamsSchema, type CategoriesParams } from '../../common/steps/categories.js';
export { CategoriesParamsSchema, type CategoriesParams };

export interface CategoryItem {
  instruction: string;
  category: string;
}

export interface Rate {
  rate: number;
  refused: number;
  n: number;
}

export interface CategoryRow {
  category: string;
  n: number;
  kStar: RankedFeature[];
  /** specific: null when the category has no specific features (nothing to clamp; not the base rate). */
  refusal: { base: Rate; specific: Rate | null; common: Rate; union: Rate };
  /** Relative drop of the common features' mean prompt activation when the specific set is clamped. */
  commonDrop: number;
  pRefusal: { base: number; specificClamped: number };
}

export interface CategoriesResults {
  kind: 'refusal-workbench/categories-results';
  schemaVersion: 1;
  layer: number;
  clampValue: number;
  retention: RetentionMode;
  categories: string[];
  sets: CategorySets;
  rows: CategoryRow[];
  /** transfer[a][b]: category a's specific set clamped on b's prompts (common retained). */
  transfer: Record<string, Record<string, Rate>>;
  /** Pooled over categories (counts summed). */
  /** specific / transfer_mean: null when every specific set is empty (no measurement, not 1.0). */
  refusal_rate: { base: number; specific: number | null; common: number; union: number; transfer_mean: number | null };
  counts: { base: number; specific: number; common: number; union: number; transfer: number };
  common_drop_when_specific_clamped: number;
  /** Empty sets and other things that leave a number unmeasured. */
  warnings: string[];
}

const judge = new SubstringJudge();

async function judged(lens: Lens, prompts: EncodedPrompt[], iv: Intervention, P: CategoriesParams, ctx: StepCtx): Promise<Rate> {
  if (!prompts.length) return { rate: 0, refused: 0, n: 0 };
  const gens = await generateWithRetention(
    lens,
    prompts,
    iv,
    { maxNewTokens: P.maxNewTokens, batchSize: P.genBatchSize, stopTokens: stopTokens(lens) },
    ctx,
  );
  const verdicts = await judge.judge(gens.map((g) => ({ prompt: g.prompt, response: g.text })), ctx.signal);
  const refused = verdicts.filter((v) => v.refused).length;
  return { rate: refused / gens.length, refused, n: gens.length };
}

function pooled(rates: Rate[]): { rate: number; n: number } {
  const n = rates.reduce((s, r) => s + r.n, 0);
  return { rate: n ? rates.reduce((s, r) => s + r.refused, 0) / n : 0, n };
}

export async function analyseCategories(
  lens: Lens,
  data: { harmful: CategoryItem[]; harmless: string[] },
  params: Partial<CategoriesParams>,
  ctx: StepCtx,
): Promise<CategoriesResults> {
  const P = CategoriesParamsSchema.parse(params);
  const byCat = new Map<string, string[]>();
  for (const it of data.harmful) {
    if (!it.category) continue;
    const list = byCat.get(it.category) ?? [];
    list.push(it.instruction);
    byCat.set(it.category, list);
  }
  if (byCat.size < 2) throw new Error(`need prompts from at least two categories (found ${byCat.size}); the suite needs a "category" field`);
  const categories = [...byCat.keys()].sort();

  // Prompts per category (optionally only those the model refuses), and the direction from all of them.
  const prompts = new Map<string, EncodedPrompt[]>();
  for (const c of categories) {
    let ps = encodePrompts(lens, byCat.get(c)!);
    if (P.filterRefused) ps = (await filterByFirstToken(lens, ps, 'refuses', ctx)).kept;
    if (P.maxPerCategory) ps = ps.slice(0, P.maxPerCategory);
    prompts.set(c, ps);
  }
  const allHarmful = categories.flatMap((c) => prompts.get(c)!);
  const harmless = (await filterByFirstToken(lens, encodePrompts(lens, data.harmless), 'complies', ctx)).kept;
  ctx.progress('direction', 0);
  const dir = await refusalDirection(lens, { harmful: allHarmful, harmless }, ctx);
  const L = lens.model.config.nLayers;
  const layer = P.layer ?? (await layerSweep(lens, { directions: dir.directions, prompts: allHarmful, candidates: Array.from({ length: Math.max(1, Math.floor(P.sweepMaxLayerFrac * L)) }, (_, l) => l) }, ctx)).bestLayer;
  const direction = dir.directions[layer]!;
  const pool = await cosinePool(lens, { direction, k: P.k, kStar: P.kStar }, ctx);

  // Global K* per category, in ranking order.
  const ranked: Record<string, RankedFeature[]> = {};
  for (const [n, c] of categories.entries()) {
    checkAbort(ctx);
    ctx.progress('attribution per category', n / categories.length, c);
    const ps = prompts.get(c)!;
    if (!ps.length) {
      ranked[c] = [];
      continue;
    }
    const attr = await laIg(lens, { prompts: ps, direction, pool: pool.pool, steps: P.steps, alphaRule: P.alphaRule, jToken: P.jToken, batchSize: P.laBatchSize }, ctx);
    ranked[c] = selectFeatures(attr, { kStar: P.kStar, skipPrefix: lens.codec.skipPrefix }).globalScores;
  }
  const sets = categorySets(ranked, { truncate: P.truncateSpecific });
  const common: FeatureSet = sets.common.map(({ layer: l, index }) => ({ layer: l, index }));
  const edit: Edit = { mode: 'multiply', c: P.clampValue };
  const specificOf = (c: string): FeatureSet => sets.specific[c]!.map(({ layer: l, index }) => ({ layer: l, index }));

  const rows: CategoryRow[] = [];
  for (const [n, c] of categories.entries()) {
    checkAbort(ctx);
    ctx.progress('interventions', n / categories.length, c);
    const ps = prompts.get(c)!;
    const spec = specificOf(c);
    const base = await judged(lens, ps, { clamp: [], edit, retain: [] }, P, ctx);
    const specific = spec.length ? await judged(lens, ps, { clamp: spec, edit, retain: common, retention: P.retention }, P, ctx) : null;
    const commonOnly = await judged(lens, ps, { clamp: common, edit, retain: [] }, P, ctx);
    const union = await judged(lens, ps, { clamp: [...common, ...spec], edit, retain: [] }, P, ctx);
    const eff = spec.length && common.length && ps.length
      ? await clampEffect(lens, ps, spec, edit, common, { batchSize: P.genBatchSize })
      : { drop: 0, pRefusalBase: 0, pRefusalClamped: 0 };
    rows.push({
      category: c,
      n: ps.length,
      kStar: ranked[c]!,
      refusal: { base, specific, common: commonOnly, union },
      commonDrop: eff.drop,
      pRefusal: { base: eff.pRefusalBase, specificClamped: eff.pRefusalClamped },
    });
  }

  const transfer: Record<string, Record<string, Rate>> = {};
  if (P.transfer) {
    for (const a of categories) {
      transfer[a] = {};
      if (!specificOf(a).length) continue;
      for (const b of categories) {
        if (a === b) continue;
        checkAbort(ctx);
        transfer[a]![b] = await judged(lens, prompts.get(b)!, { clamp: specificOf(a), edit, retain: common, retention: P.retention }, P, ctx);
      }
    }
  }
  const transferRates = Object.values(transfer).flatMap((m) => Object.values(m));
  const base = pooled(rows.map((r) => r.refusal.base));
  const measured = rows.map((r) => r.refusal.specific).filter((x): x is Rate => x !== null);
  const specific = pooled(measured);
  const warnings: string[] = [];
  const emptySpec = categories.filter((c) => !specificOf(c).length);
  if (emptySpec.length === categories.length) warnings.push('every category-specific set is empty (all K* features are common): specific and transfer rates are not measured');
  else if (emptySpec.length) warnings.push(`empty specific sets (not measured): ${emptySpec.join(', ')}`);
  if (!common.length) warnings.push('the common (refusal) set is empty: the common and retention conditions clamp nothing');
  const commonR = pooled(rows.map((r) => r.refusal.common));
  const union = pooled(rows.map((r) => r.refusal.union));
  const tr = pooled(transferRates);
  const withDrop = rows.filter((r) => r.n > 0);
  ctx.progress('done', 1);
  return {
    kind: 'refusal-workbench/categories-results',
    schemaVersion: 1,
    layer,
    clampValue: P.clampValue,
    retention: P.retention,
    categories,
    sets,
    rows,
    transfer,
    refusal_rate: { base: base.rate, specific: measured.length ? specific.rate : null, common: commonR.rate, union: union.rate, transfer_mean: transferRates.length ? tr.rate : null },
    counts: { base: base.n, specific: specific.n, common: commonR.n, union: union.n, transfer: tr.n },
    common_drop_when_specific_clamped: withDrop.length ? withDrop.reduce((s, r) => s + r.commonDrop, 0) / withDrop.length : 0,
    warnings,
  };
}
