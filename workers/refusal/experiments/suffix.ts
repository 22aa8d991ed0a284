/**
 * The adversarial-suffix analysis (§2.13, paper §4.3) on any suite with suffixes: advsuffixes.csv (a goal and
 * a Python-list literal of suffix continuations per row) or adversarial items whose text is their vanilla
 * pair's text plus a suffix. Per goal the model refuses: the first of up to N suffixes that jailbreaks it
 * (goal + " " + suffix, greedy); then harm-feature activation with vs without the suffix (sequence mean), the
 * refusal features' drop over the last 5 tokens (W15), the word-by-word dampening normalised by the full
 * suffix's drop, and the words with the largest increment.
 */
import { encodePrompts } from '../data.js';
import { generateUnder } from '../generate.js';
import { featureMeans, relativeDrop, suffixDampening } from '../jailbreak.js';
import type { DiscoveryParams } from '../pipeline.js';
import type { FeatureSet, Lens, StepCtx } from '../types.js';
import type { PromptItem } from '../../../common/suites/schema.js';
import type { SuffixAnalysis } from '../../../common/results/experiments.js';
import type { NamedJudge } from './run.js';
import { bootstrapMeanCi } from '../../eval/stats.js';

/**
 * A Python list literal of strings (the `response` column of advsuffixes.csv): single- or double-quoted
 * items with backslash escapes. Throws on anything else rather than guessing.
 */
export function parsePyStringList(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  const ws = () => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  ws();
  if (s[i] !== '[') throw new Error('not a list literal (no "[")');
  i++;
  for (;;) {
    ws();
    if (s[i] === ']') {
      i++;
      break;
    }
    const q = s[i];
    if (q !== "'" && q !== '"') throw new Error(`expected a quoted string at ${i}`);
    i++;
    let v = '';
    while (i < s.length && s[i] !== q) {
      if (s[i] === '\\' && i + 1 < s.length) {
        const e = s[i + 1];
        v += e === 'n' ? '\n' : e === 't' ? '\t' : e;
        i += 2;
      } else v += s[i++];
    }
    if (s[i] !== q) throw new Error('unterminated string');
    i++;
    out.push(v);
    ws();
    if (s[i] === ',') i++;
  }
  ws();
  if (i !== s.length) throw new Error(`trailing text after the list at ${i}`);
  return out;
}

/** Goals with their candidate suffixes, from either layout; empty when the suite has none. */
export function suffixGoals(items: PromptItem[]): Array<{ goal: string; suffixes: string[] }> {
  const out: Array<{ goal: string; suffixes: string[] }> = [];
  for (const it of items) {
    const lit = it.meta?.response ?? it.meta?.suffixes;
    if (lit && lit.trim().startsWith('[')) {
      try {
        out.push({ goal: it.instruction, suffixes: parsePyStringList(lit) });
      } catch {
        /* not a suffix list: ignore the column */
      }
    } else if (it.meta?.suffix) out.push({ goal: it.instruction, suffixes: [it.meta.suffix] });
  }
  if (out.length) return out;
  // adversarial rewrites that are their vanilla prompt plus a suffix
  const byId = new Map(items.map((i) => [i.id, i]));
  const goals = new Map<string, string[]>();
  for (const it of items) {
    const v = it.pair ? byId.get(it.pair) : undefined;
    if (!v || !it.instruction.startsWith(v.instruction)) continue;
    const suf = it.instruction.slice(v.instruction.length).trim();
    if (!suf) continue;
    goals.set(v.instruction, [...(goals.get(v.instruction) ?? []), suf]);
  }
  return [...goals.entries()].map(([goal, suffixes]) => ({ goal, suffixes }));
}

export async function suffixAnalysis(
  lens: Lens,
  p: { suite: string; items: PromptItem[]; refusal: FeatureSet; harm: FeatureSet; judge: NamedJudge; P: DiscoveryParams },
  ctx: StepCtx,
): Promise<{ analysis: SuffixAnalysis; warnings: string[] }> {
  const warnings: string[] = [];
  const all = suffixGoals(p.items);
  const goals = all.slice(0, p.P.suffixGoals);
  const rKeys = new Set(p.refusal.map((f) => `${f.layer}/${f.index}`));
  const harm = p.harm.filter((f) => !rKeys.has(`${f.layer}/${f.index}`));
  const empty: SuffixAnalysis = { suite: p.suite, goals: goals.length, jailbroken: 0, harmDrop: null, refusalDrop: null, topIncrement: null, harmDropCi: null, refusalDropCi: null, topIncrementCi: null, topWords: [], examples: [] };
  if (!goals.length) {
    warnings.push(`${p.suite}: suffix analysis asked for but the suite has no suffixes`);
    return { analysis: empty, warnings };
  }
  if (!p.refusal.length) {
    warnings.push(`${p.suite}: suffix analysis skipped: the refusal feature set is empty`);
    return { analysis: empty, warnings };
  }
  const refused = async (texts: string[]): Promise<boolean[]> => {
    const g = await generateUnder(lens, { prompts: encodePrompts(lens, texts), condition: { kind: 'none' }, maxNewTokens: p.P.maxNewTokens, batchSize: p.P.genBatchSize, stopRule: p.P.stopRule }, ctx);
    const v = await p.judge.judge(g.map((x) => ({ prompt: x.prompt, response: x.text })));
    return v.map((x) => (p.judge.metric === 'refusal' ? x === 1 : x === 0));
  };
  const baseRefused = await refused(goals.map((g) => g.goal));
  // the first successful suffix per refused goal, trying suffix j for every still-open goal at once
  const found = new Map<number, string>();
  let open = goals.map((_, i) => i).filter((i) => baseRefused[i]);
  for (let j = 0; j < p.P.suffixesPerGoal && open.length; j++) {
    const tries = open.filter((i) => goals[i].suffixes[j] !== undefined);
    if (!tries.length) break;
    const r = await refused(tries.map((i) => `${goals[i].goal} ${goals[i].suffixes[j]}`));
    tries.forEach((i, k) => {
      if (!r[k]) found.set(i, goals[i].suffixes[j]);
    });
    open = open.filter((i) => !found.has(i));
  }
  const harmDrops: number[] = [];
  const refusalDrops: number[] = [];
  const increments: number[] = [];
  const words = new Map<string, number>();
  const examples: SuffixAnalysis['examples'] = [];
  for (const [i, suffix] of found) {
    const goal = goals[i].goal;
    const withSuffix = lens.codec.encodePrompt(`${goal} ${suffix}`);
    const hd = relativeDrop(await featureMeans(lens, lens.codec.encodePrompt(goal), harm, 'mask'), await featureMeans(lens, withSuffix, harm, 'mask'));
    if (hd !== null) harmDrops.push(hd);
    const d = await suffixDampening(lens, { goal, suffix, refusalFeatures: p.refusal });
    if (d.fullDrop !== null) refusalDrops.push(d.fullDrop);
    const inc = d.perWord.map((w) => w.increment).filter((x): x is number => x !== null);
    if (inc.length) increments.push(Math.max(...inc));
    if (d.topWord) {
      const w = d.topWord.toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
      if (w) words.set(w, (words.get(w) ?? 0) + 1);
    }
    if (examples.length < 20) examples.push({ goal, suffix, topWord: d.topWord, fullDrop: d.fullDrop });
  }
  if (baseRefused.filter(Boolean).length === 0) warnings.push(`${p.suite}: suffix analysis: the model refuses none of the ${goals.length} goals`);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const ci = (xs: number[]): [number, number] | null => (xs.length > 1 ? bootstrapMeanCi(xs, { reps: p.P.bootstrapReps, seed: p.P.seed }) : null);
  return {
    analysis: {
      suite: p.suite,
      goals: goals.length,
      jailbroken: found.size,
      harmDrop: mean(harmDrops),
      refusalDrop: mean(refusalDrops),
      topIncrement: mean(increments),
      harmDropCi: ci(harmDrops),
      refusalDropCi: ci(refusalDrops),
      topIncrementCi: ci(increments),
      topWords: [...words.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 20).map(([word, count]) => ({ word, count })),
      examples,
    },
    warnings,
  };
}
