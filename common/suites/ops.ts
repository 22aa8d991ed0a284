/** Suite utilities: category filter, deterministic seeded split, tagging, selection. Browser-safe. */
import { PromptSuiteSchema, type PromptItem, type PromptSuite, type Split } from './schema.js';

/** mulberry32: a small deterministic PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates with a seeded PRNG; returns a new array. */
export function seededShuffle<T>(xs: readonly T[], seed: number): T[] {
  const a = xs.slice();
  const rnd = mulberry32(seed);
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function withItems(suite: PromptSuite, items: PromptItem[], name = suite.name): PromptSuite {
  // Drop pairs that point outside the kept items.
  const ids = new Set(items.map((i) => i.id));
  const fixed = items.map((it) => {
    if (it.pair === undefined || ids.has(it.pair)) return it;
    const { pair: _pair, ...rest } = it;
    return rest;
  });
  return PromptSuiteSchema.parse({ ...suite, name, items: fixed });
}

/** Distinct categories with counts, in first-seen order (null = uncategorised). */
export function categoryCounts(suite: PromptSuite): { category: string | null; count: number }[] {
  const m = new Map<string | null, number>();
  for (const it of suite.items) m.set(it.category, (m.get(it.category) ?? 0) + 1);
  return [...m].map(([category, count]) => ({ category, count }));
}

/** Items whose category is in `categories` (null matches uncategorised items). */
export function filterByCategory(suite: PromptSuite, categories: ReadonlyArray<string | null>): PromptSuite {
  const keep = new Set(categories);
  return withItems(suite, suite.items.filter((it) => keep.has(it.category)));
}

/** Items that carry every tag in `all` and none in `none`. */
export function filterByTags(suite: PromptSuite, all: readonly string[], none: readonly string[] = []): PromptSuite {
  return withItems(
    suite,
    suite.items.filter((it) => all.every((t) => it.tags.includes(t)) && !none.some((t) => it.tags.includes(t))),
  );
}

export function itemsInSplit(suite: PromptSuite, split: Split): PromptItem[] {
  return suite.items.filter((it) => it.split === split);
}

export interface SplitOptions {
  seed: number;
  /** Fractions of train / val / test; normalised to sum 1. Default 0.6 / 0.2 / 0.2. */
  fractions?: { train: number; val: number; test: number };
  /** Split each category separately so the proportions hold per category. */
  stratifyByCategory?: boolean;
}

/**
 * Assigns every item a split, deterministically from the seed: shuffle (mulberry32 Fisher–Yates), then
 * the first round(n·train) are train, the next round(n·val) val, the rest test. Item order is kept.
 */
export function splitSuite(suite: PromptSuite, opts: SplitOptions): PromptSuite {
  const f = opts.fractions ?? { train: 0.6, val: 0.2, test: 0.2 };
  if ([f.train, f.val, f.test].some((x) => !(x >= 0)) || f.train + f.val + f.test <= 0) {
    throw new Error('splitSuite: fractions must be non-negative with a positive sum');
  }
  const tot = f.train + f.val + f.test;
  const groups = new Map<string, number[]>();
  suite.items.forEach((it, k) => {
    const g = opts.stratifyByCategory ? `c:${it.category ?? '\u0000'}` : 'all';
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(k);
  });
  const assigned: Split[] = new Array(suite.items.length);
  let gi = 0;
  for (const idx of groups.values()) {
    const order = seededShuffle(idx, (opts.seed + Math.imul(gi++, 0x9e3779b1)) >>> 0);
    const n = order.length;
    const nTrain = Math.round((n * f.train) / tot);
    const nVal = Math.min(n - nTrain, Math.round((n * f.val) / tot));
    order.forEach((k, r) => (assigned[k] = r < nTrain ? 'train' : r < nTrain + nVal ? 'val' : 'test'));
  }
  return withItems(
    suite,
    suite.items.map((it, k) => ({ ...it, split: assigned[k]! })),
  );
}

/** Adds, removes or replaces tags on the selected items (all items when `select` is omitted). */
export function tagItems(
  suite: PromptSuite,
  tags: readonly string[],
  opts: { mode?: 'add' | 'remove' | 'set'; select?: ReadonlyArray<string> | ((it: PromptItem) => boolean) } = {},
): PromptSuite {
  const mode = opts.mode ?? 'add';
  const sel = opts.select;
  const pick = sel === undefined ? () => true : typeof sel === 'function' ? sel : ((ids: Set<string>) => (it: PromptItem) => ids.has(it.id))(new Set(sel));
  return withItems(
    suite,
    suite.items.map((it) => {
      if (!pick(it)) return it;
      const next = mode === 'set' ? [...tags] : mode === 'add' ? [...it.tags, ...tags] : it.tags.filter((t) => !tags.includes(t));
      return { ...it, tags: [...new Set(next)] };
    }),
  );
}

/** Replaces one item's editable fields (instruction, category, tags, split, label). */
export function editItem(suite: PromptSuite, id: string, patch: Partial<Omit<PromptItem, 'id'>>): PromptSuite {
  if (!suite.items.some((it) => it.id === id)) throw new Error(`editItem: no item ${JSON.stringify(id)}`);
  return withItems(suite, suite.items.map((it) => (it.id === id ? { ...it, ...patch } : it)));
}

/** The first n items (in order), e.g. the reference's "first 100 of each dataset". */
export function takeFirst(suite: PromptSuite, n: number): PromptSuite {
  return withItems(suite, suite.items.slice(0, n));
}

/** A seeded random sample of n items (kept in original order). */
export function sampleItems(suite: PromptSuite, n: number, seed: number): PromptSuite {
  const pick = new Set(seededShuffle(suite.items.map((_, k) => k), seed).slice(0, n));
  return withItems(suite, suite.items.filter((_, k) => pick.has(k)));
}

/** The suite as the reference's processed JSON (`[{instruction, category}]`). */
export function toInstructionJson(suite: PromptSuite): string {
  return JSON.stringify(suite.items.map((it) => ({ instruction: it.instruction, category: it.category })), null, 4);
}
