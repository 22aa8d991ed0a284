/**
 * Capability side effect (§6): multiple-choice (ARC-style) and free-answer (GSM8K-style) suites, scored under
 * any condition by answer-option log-likelihood (the reference's ARC prompt with the assistant turn
 * pre-filled "The best answer is (", the option letters compared at the next position) or by exact match of
 * the answer extracted from a greedy generation (the letter, or GSM8K's number after "####" / the last one).
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { chunks, leftPad } from '../batch.js';
import { conditionHooks, type Condition, type Generation } from '../generate.js';
import { checkAbort, type EncodedPrompt, type Lens, type StepCtx } from '../types.js';

export interface CapabilityItem {
  question: string;
  /** Options with their labels (A, B, …); absent for free-answer items. */
  choices?: Array<{ label: string; text: string }>;
  /** Gold answer: an option label, or the normalised number / text. */
  answer: string;
}

const ArcOfficial = z.object({
  question: z.object({ stem: z.string(), choices: z.array(z.object({ text: z.string(), label: z.string() })).min(2) }),
  answerKey: z.string(),
});
const ArcHf = z.object({
  question: z.string(),
  choices: z.object({ text: z.array(z.string()).min(2), label: z.array(z.string()).min(2) }),
  answerKey: z.string(),
});
const Gsm = z.object({ question: z.string(), answer: z.string() });
/** A generic MC row: question, options list, answer (letter or index). */
const Generic = z.object({ question: z.string(), options: z.array(z.string()).min(2), answer: z.union([z.string(), z.number().int()]) });

const LETTERS = 'ABCDEFGHIJ';

/** One record of an ARC (official or Hugging Face layout), GSM8K or generic MC file. */
export function capabilityItem(raw: unknown, where: string): CapabilityItem {
  const a = ArcOfficial.safeParse(raw);
  if (a.success) return { question: a.data.question.stem, choices: a.data.question.choices, answer: normaliseLabel(a.data.answerKey, a.data.question.choices.map((c) => c.label)) };
  const h = ArcHf.safeParse(raw);
  if (h.success) {
    const choices = h.data.choices.text.map((text, i) => ({ text, label: h.data.choices.label[i] ?? LETTERS[i] }));
    return { question: h.data.question, choices, answer: normaliseLabel(h.data.answerKey, choices.map((c) => c.label)) };
  }
  const g = Generic.safeParse(raw);
  if (g.success) {
    const choices = g.data.options.map((text, i) => ({ text, label: LETTERS[i] }));
    const ans = typeof g.data.answer === 'number' ? LETTERS[g.data.answer] : g.data.answer.trim();
    return { question: g.data.question, choices, answer: ans };
  }
  const s = Gsm.safeParse(raw);
  if (s.success) {
    const m = /####\s*(.+)\s*$/.exec(s.data.answer);
    return { question: s.data.question, answer: normaliseNumber(m ? m[1] : s.data.answer) };
  }
  throw new Error(`${where}: not an ARC ({question:{stem,choices}, answerKey} or {question, choices:{text,label}, answerKey}), GSM8K ({question, answer "… #### N"}) or {question, options, answer} record`);
}

/** ARC keys are letters or digits ("1".."4" in some rows): map digits to the i-th label. */
function normaliseLabel(key: string, labels: string[]): string {
  const k = key.trim();
  if (labels.includes(k)) return k;
  const i = Number(k) - 1;
  return Number.isInteger(i) && labels[i] ? labels[i] : k;
}

export function normaliseNumber(s: string): string {
  const t = s.replace(/,/g, '').trim();
  const m = /-?\d+(?:\.\d+)?/.exec(t);
  if (!m) return t.toLowerCase();
  const n = Number(m[0]);
  return Number.isFinite(n) ? String(n) : m[0];
}

/** A JSON array or JSON-lines file of capability records. */
export function parseCapabilityFile(text: string, file: string, limit?: number): CapabilityItem[] {
  const t = text.trim();
  let records: unknown[];
  if (t.startsWith('[')) {
    try {
      records = JSON.parse(t) as unknown[];
    } catch (e) {
      throw new Error(`${file}: not JSON (${(e as Error).message})`);
    }
  } else
    records = t.split(/\r?\n/).filter((l) => l.trim()).map((l, i) => {
      try {
        return JSON.parse(l) as unknown;
      } catch (e) {
        throw new Error(`${file}:${i + 1}: not a JSON line (${(e as Error).message})`);
      }
    });
  const items = records.slice(0, limit ?? records.length).map((r, i) => capabilityItem(r, `${file} record ${i + 1}`));
  if (!items.length) throw new Error(`${file}: no capability items`);
  return items;
}

/** The reference's ARC user prompt (§6) for MC items; GSM8K's zero-shot CoT prompt for free-answer ones. */
export function capabilityPrompt(it: CapabilityItem): string {
  if (!it.choices) return `Question: ${it.question}\nA: Let's think step by step.`;
  const n = it.choices.length;
  const labels = it.choices.map((c) => c.label);
  const list = labels.length > 1 ? `${labels.slice(0, -1).join(', ')} and ${labels[labels.length - 1]}` : labels[0];
  return (
    `Given the following question and ${n === 4 ? 'four' : String(n)} candidate answers (${list}), choose the best answer.\n` +
    `Question: ${it.question}\nChoices:\n${it.choices.map((c) => `(${c.label}) ${c.text}`).join('\n')}\n` +
    `Your response should end with "The best answer is ([the_answer_letter])" where the [the_answer_letter] is one of ${list}.`
  );
}

export const ANSWER_PREFILL = 'The best answer is (';

/** The answer read from a generation: an option label for MC items, else the last (or ####) number. */
export function extractAnswer(it: CapabilityItem, text: string): string | null {
  if (it.choices) {
    const labels = it.choices.map((c) => c.label);
    const paren = [...text.matchAll(/\(([A-Za-z0-9])\)/g)].map((m) => m[1]).find((l) => labels.includes(l));
    if (paren) return paren;
    const first = /^\s*([A-Za-z0-9])\b/.exec(text)?.[1];
    if (first && labels.includes(first)) return first;
    const word = [...text.matchAll(/\b([A-Z])\b/g)].map((m) => m[1]).find((l) => labels.includes(l));
    return word ?? null;
  }
  const hash = /####\s*(-?[\d,]+(?:\.\d+)?)/.exec(text);
  if (hash) return normaliseNumber(hash[1]);
  const nums = [...text.replace(/,/g, '').matchAll(/-?\d+(?:\.\d+)?/g)];
  return nums.length ? normaliseNumber(nums[nums.length - 1][0]) : null;
}

/** 1/0 per item: correct under the condition. */
export async function scoreCapability(
  lens: Lens,
  p: {
    items: CapabilityItem[];
    cond: Condition;
    scoring: 'loglik' | 'exact';
    batchSize?: number;
    maxNewTokens?: number;
    generate: (prompts: EncodedPrompt[], cond: Condition, maxNewTokens?: number) => Promise<Generation[]>;
  },
  ctx: StepCtx,
): Promise<number[]> {
  const enc = lens.codec.encodeText;
  const out = new Array<number>(p.items.length).fill(0);
  const byLik = p.items.map((it, i) => ({ it, i })).filter(({ it }) => p.scoring === 'loglik' && it.choices && enc);
  const byGen = p.items.map((it, i) => ({ it, i })).filter(({ it }) => !(p.scoring === 'loglik' && it.choices && enc));
  if (byLik.length) {
    const prefill = enc!(ANSWER_PREFILL);
    for (const ch of chunks(byLik, p.batchSize ?? 8)) {
      checkAbort(ctx);
      const seqs = ch.map(({ it }) => [...lens.codec.encodePrompt(capabilityPrompt(it)), ...prefill]);
      const batch = leftPad(seqs, lens.model.config.padTokenId);
      const h = await conditionHooks(lens, p.cond, ch.map((_, b) => b));
      try {
        const last = tf.tidy(() => {
          const r = lens.model.forward(batch, { hooks: h.hooks });
          for (const t of r.cache.values()) t.dispose();
          const [B, T, V] = r.logits!.shape;
          return tf.reshape(tf.slice(r.logits!, [0, T - 1, 0], [B, 1, V]), [B, V]);
        });
        const rows = (await last.array()) as number[][];
        last.dispose();
        ch.forEach(({ it, i }, b) => {
          const scored = it.choices!.map((c) => ({ label: c.label, logit: rows[b][enc!(c.label)[0] ?? -1] ?? -Infinity }));
          const best = scored.reduce((a, x) => (x.logit > a.logit ? x : a));
          out[i] = best.label === it.answer ? 1 : 0;
        });
      } finally {
        h.dispose();
      }
    }
  }
  if (byGen.length) {
    const prompts = byGen.map(({ it }) => ({ text: it.question, ids: lens.codec.encodePrompt(capabilityPrompt(it)) }));
    const gens = await p.generate(prompts, p.cond, p.maxNewTokens ?? 64);
    byGen.forEach(({ it, i }, k) => {
      out[i] = extractAnswer(it, gens[k].text) === it.answer ? 1 : 0;
    });
  }
  return out;
}
