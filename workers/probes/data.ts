/**
 * Probe datasets from prompt suites (paper §4.4, METHOD §2.13): in-distribution vanilla harmful (y=1) vs
 * vanilla benign (y=0) for train/val; OOD test = vanilla harmful (y=1, group 1) + adversarial harmful
 * prompts labelled by behaviour (group 0): the probe target is "will the model refuse", so adversarial
 * prompts that jailbreak the model are y=0. Pure and seeded (our mulberry32 shuffle; the reference's numpy
 * draws cannot be reproduced bit for bit).
 */
import { seededShuffle } from '../../common/suites/ops.js';
import type { PromptItem } from '../../common/suites/schema.js';
import type { Verdict } from '../eval/judges/types.js';

export interface LabelledPrompt {
  id: string;
  instruction: string;
  /** 1 = the refused side (harmful / refused), 0 = the other. */
  y: 0 | 1;
  /** 1 = vanilla, 0 = adversarial (the reference's groups); for in-distribution sets, the y. */
  group: 0 | 1;
}

/**
 * Behavioural labels from judge verdicts: y = 1 when the model refused, 0 when it complied. A verdict
 * counts as refused when `refused` is true, or (HarmBench-style judges) when `jailbroken` is false.
 * Items whose verdict says neither (invalid) get no label and are dropped.
 */
export function behaviouralLabels(items: readonly PromptItem[], verdicts: readonly Verdict[]): { item: PromptItem; y: 0 | 1 }[] {
  if (items.length !== verdicts.length) throw new Error(`behaviouralLabels: ${items.length} items but ${verdicts.length} verdicts`);
  const out: { item: PromptItem; y: 0 | 1 }[] = [];
  items.forEach((item, k) => {
    const v = verdicts[k]!;
    const refused = v.refused !== undefined ? v.refused : v.jailbroken !== undefined ? !v.jailbroken : undefined;
    if (refused === undefined || v.invalid) return;
    out.push({ item, y: refused ? 1 : 0 });
  });
  return out;
}

export interface ProbeSetSizes {
  /** Per class in train (reference 2000). */
  train?: number;
  /** Per class in val (reference 400). */
  val?: number;
  /** Per group in test (reference 500). */
  test?: number;
}

export interface ProbeSets {
  train: LabelledPrompt[];
  val: LabelledPrompt[];
  test: LabelledPrompt[];
  /** Counts actually available, for the manifest. */
  available: { vanillaHarmful: number; vanillaBenign: number; adversarialJailbreaking: number };
}

const has = (it: PromptItem, t: string) => it.tags.includes(t);

/**
 * Builds train/val/test from tagged items (e.g. an imported WildJailbreak TSV): vanilla = tagged
 * 'vanilla' (or not 'adversarial'), harmful/harmless by tag. `jailbreaking` = ids of adversarial harmful
 * prompts that jailbroke the model (behavioural labels y=0). Disjoint slices of one seeded shuffle per
 * pool; sizes shrink (equally per class) when a pool is short, never overlap.
 */
export function buildProbeSets(
  items: readonly PromptItem[],
  jailbreaking: ReadonlySet<string>,
  opts: ProbeSetSizes & { seed: number },
): ProbeSets {
  const vanilla = (it: PromptItem) => has(it, 'vanilla') || !has(it, 'adversarial');
  const vh = seededShuffle(items.filter((it) => vanilla(it) && has(it, 'harmful')), opts.seed);
  const vb = seededShuffle(items.filter((it) => vanilla(it) && (has(it, 'harmless') || has(it, 'benign'))), opts.seed + 1);
  const aj = seededShuffle(items.filter((it) => has(it, 'adversarial') && has(it, 'harmful') && jailbreaking.has(it.id)), opts.seed + 2);
  const want = { train: opts.train ?? 2000, val: opts.val ?? 400, test: opts.test ?? 500 };
  // Vanilla harmful feeds train, val and test; benign feeds train and val.
  const scale = Math.min(1, vh.length / (want.train + want.val + want.test), vb.length / (want.train + want.val));
  const nTr = Math.floor(want.train * scale);
  const nVa = Math.floor(want.val * scale);
  const nTe = Math.min(Math.floor(want.test * scale), aj.length, vh.length - nTr - nVa);
  const lab = (it: PromptItem, y: 0 | 1, group: 0 | 1): LabelledPrompt => ({ id: it.id, instruction: it.instruction, y, group });
  const mix = (a: LabelledPrompt[], b: LabelledPrompt[], seed: number) => seededShuffle([...a, ...b], seed);
  const train = mix(vh.slice(0, nTr).map((it) => lab(it, 1, 1)), vb.slice(0, nTr).map((it) => lab(it, 0, 0)), opts.seed + 3);
  const val = mix(vh.slice(nTr, nTr + nVa).map((it) => lab(it, 1, 1)), vb.slice(nTr, nTr + nVa).map((it) => lab(it, 0, 0)), opts.seed + 4);
  const test = [
    ...vh.slice(nTr + nVa, nTr + nVa + nTe).map((it) => lab(it, 1, 1)),
    ...aj.slice(0, nTe).map((it) => lab(it, 0, 0)),
  ];
  return { train, val, test, available: { vanillaHarmful: vh.length, vanillaBenign: vb.length, adversarialJailbreaking: aj.length } };
}
