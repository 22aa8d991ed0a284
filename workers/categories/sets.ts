/**
 * Common (refusal) and category-specific (harm) feature sets from per-category K* selections (paper §4.2):
 * common = ∩ over categories; specific(c) = K*(c) − common, truncated to |common| in ranking order (as the
 * paper) or kept whole.
 */
export interface RankedFeature {
  layer: number;
  index: number;
  score: number;
}

export type FeatureKey = `${number}/${number}`;
export const featureKey = (f: { layer: number; index: number }): FeatureKey => `${f.layer}/${f.index}`;

export interface CategorySets {
  categories: string[];
  /** Common features, ordered by mean rank over categories (then layer, index). */
  common: RankedFeature[];
  specific: Record<string, RankedFeature[]>;
  /** Sizes before truncation. */
  specificFullCount: Record<string, number>;
  /** Jaccard overlap of the K* sets, categories × categories (same order as `categories`). */
  jaccard: number[][];
  truncate: boolean;
}

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

/**
 * `ranked[c]` is category c's K* set in ranking order (best first). `truncate` (default true) keeps the
 * first |common| specific features, as the paper does.
 */
export function categorySets(ranked: Record<string, RankedFeature[]>, opts: { truncate?: boolean } = {}): CategorySets {
  const truncate = opts.truncate ?? true;
  const categories = Object.keys(ranked).sort();
  if (categories.length === 0) throw new Error('no categories to compare');
  const keys = new Map(categories.map((c) => [c, new Set(ranked[c]!.map(featureKey))]));
  const commonKeys = [...keys.get(categories[0]!)!].filter((k) => categories.every((c) => keys.get(c)!.has(k)));
  const meanRank = (k: string) => categories.reduce((s, c) => s + ranked[c]!.findIndex((f) => featureKey(f) === k), 0) / categories.length;
  const first = new Map(ranked[categories[0]!]!.map((f) => [featureKey(f), f]));
  const common = commonKeys
    .map((k) => {
      const f = first.get(k as FeatureKey)!;
      const score = categories.reduce((s, c) => s + ranked[c]!.find((g) => featureKey(g) === k)!.score, 0) / categories.length;
      return { f: { layer: f.layer, index: f.index, score }, r: meanRank(k) };
    })
    .sort((a, b) => a.r - b.r || a.f.layer - b.f.layer || a.f.index - b.f.index)
    .map((x) => x.f);
  const commonSet = new Set(commonKeys);
  const specific: Record<string, RankedFeature[]> = {};
  const specificFullCount: Record<string, number> = {};
  for (const c of categories) {
    const rest = ranked[c]!.filter((f) => !commonSet.has(featureKey(f)));
    specificFullCount[c] = rest.length;
    specific[c] = truncate ? rest.slice(0, common.length) : rest;
  }
  const jac = categories.map((a) => categories.map((b) => jaccard(keys.get(a)!, keys.get(b)!)));
  return { categories, common, specific, specificFullCount, jaccard: jac, truncate };
}
