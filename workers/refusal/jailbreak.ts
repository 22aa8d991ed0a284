/**
 * Jailbreak mechanism measures (§2.13): for vanilla/adversarial prompt pairs, the relative drop (h−a)/h of
 * harm features (sequence mean) and refusal features (mean over the last 5 tokens of the sequence — W15);
 * for suffix attacks, the word-by-word dampening of the refusal features, normalised by the full suffix's.
 */
import { nodeActivations } from './graph.js';
import { sparseSlice, type SparseSlice } from './sae-math.js';
import type { FeatureSet, Lens } from './types.js';

async function slicesFor(lens: Lens, feats: FeatureSet): Promise<Map<number, SparseSlice>> {
  const by = new Map<number, number[]>();
  for (const f of feats) by.set(f.layer, [...(by.get(f.layer) ?? []), f.index]);
  const out = new Map<number, SparseSlice>();
  for (const [l, idx] of by) {
    const sae = await lens.saes.get(l);
    out.set(l, sparseSlice(sae, idx));
    lens.saes.release(sae);
  }
  return out;
}

/** Mean activation per feature (aligned with `feats`) on one prompt's tokens. */
export async function featureMeans(
  lens: Lens,
  ids: number[],
  feats: FeatureSet,
  positions: 'mask' | { lastN: number },
): Promise<number[]> {
  if (!feats.length) return [];
  const sl = await slicesFor(lens, feats);
  try {
    const a = await nodeActivations(lens, [ids], sl, [], 1, positions);
    return feats.map((f) => a.get(f.layer)![sl.get(f.layer)!.indices.indexOf(f.index)]);
  } finally {
    for (const s of sl.values()) s.dispose();
  }
}

/** Relative drop over features with h ≠ 0: mean of (h − a)/h. */
export function relativeDrop(h: number[], a: number[]): number | null {
  const r = h.map((x, i) => (Math.abs(x) > 1e-8 ? (x - a[i]) / x : null)).filter((x): x is number => x !== null);
  return r.length ? r.reduce((s, x) => s + x, 0) / r.length : null;
}

export interface PairMeasure {
  harmDrop: number | null;
  refusalDrop: number | null;
}

export async function pairDrops(
  lens: Lens,
  p: { vanilla: number[]; adversarial: number[]; harmFeatures: FeatureSet; refusalFeatures: FeatureSet; lastN?: number },
): Promise<PairMeasure> {
  const last = { lastN: p.lastN ?? 5 };
  const hv = await featureMeans(lens, p.vanilla, p.harmFeatures, 'mask');
  const ha = await featureMeans(lens, p.adversarial, p.harmFeatures, 'mask');
  const rv = await featureMeans(lens, p.vanilla, p.refusalFeatures, last);
  const ra = await featureMeans(lens, p.adversarial, p.refusalFeatures, last);
  return { harmDrop: relativeDrop(hv, ha), refusalDrop: relativeDrop(rv, ra) };
}

/**
 * Suffix dampening: append the suffix word by word; for each prefix of k words, the refusal features' drop
 * (last 5 tokens) relative to the goal alone, normalised by the full suffix's drop; the word with the
 * largest increment is reported.
 */
export async function suffixDampening(
  lens: Lens,
  p: { goal: string; suffix: string; refusalFeatures: FeatureSet; lastN?: number },
): Promise<{ fullDrop: number | null; perWord: Array<{ word: string; drop: number | null; increment: number | null }>; topWord: string | null }> {
  const last = { lastN: p.lastN ?? 5 };
  const base = await featureMeans(lens, lens.codec.encodePrompt(p.goal), p.refusalFeatures, last);
  const words = p.suffix.split(/\s+/).filter(Boolean);
  const full = relativeDrop(base, await featureMeans(lens, lens.codec.encodePrompt(`${p.goal} ${p.suffix}`), p.refusalFeatures, last));
  const perWord: Array<{ word: string; drop: number | null; increment: number | null }> = [];
  let prev = 0;
  for (let k = 1; k <= words.length; k++) {
    const a = await featureMeans(lens, lens.codec.encodePrompt(`${p.goal} ${words.slice(0, k).join(' ')}`), p.refusalFeatures, last);
    const d = relativeDrop(base, a);
    const norm = d !== null && full ? d / full : null;
    perWord.push({ word: words[k - 1], drop: norm, increment: norm === null ? null : norm - prev });
    if (norm !== null) prev = norm;
  }
  const best = perWord.filter((w) => w.increment !== null).sort((a, b) => b.increment! - a.increment!)[0];
  return { fullDrop: full, perWord, topWord: best?.word ?? null };
}

export interface MechanismSummary {
  /** Adversarial version jailbroke (judge) while the vanilla one was refused. */
  jailbreak: { n: number; harmDrop: number | null; refusalDrop: number | null };
  /** Both refused. */
  failed: { n: number; harmDrop: number | null; refusalDrop: number | null };
}

function mean(xs: Array<number | null>): number | null {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

/**
 * §2.13 on vanilla/adversarial pairs: split by behaviour (adversarial jailbroke vs refused, vanilla refused),
 * then the mean relative drops of harm features (sequence mean) and refusal features (last 5 tokens).
 */
export async function mechanismOnPairs(
  lens: Lens,
  p: {
    pairs: Array<{ vanilla: number[]; adversarial: number[]; vanillaRefused: boolean; adversarialRefused: boolean }>;
    harmFeatures: FeatureSet;
    refusalFeatures: FeatureSet;
  },
): Promise<MechanismSummary> {
  const jb: PairMeasure[] = [];
  const failed: PairMeasure[] = [];
  for (const q of p.pairs) {
    if (!q.vanillaRefused) continue;
    const m = await pairDrops(lens, { vanilla: q.vanilla, adversarial: q.adversarial, harmFeatures: p.harmFeatures, refusalFeatures: p.refusalFeatures });
    (q.adversarialRefused ? failed : jb).push(m);
  }
  const sum = (xs: PairMeasure[]) => ({ n: xs.length, harmDrop: mean(xs.map((x) => x.harmDrop)), refusalDrop: mean(xs.map((x) => x.refusalDrop)) });
  return { jailbreak: sum(jb), failed: sum(failed) };
}
