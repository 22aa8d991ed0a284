/** Turns demo suites into tokenised training conversations (loss on the assistant's tokens). */
import { Rng } from './prng.js';
import { responseFor, type PromptSuite, type Split } from './corpus.js';
import type { DemoTokenizer } from './tokenizer.js';
import type { TrainExample } from '../train/model-trainer.js';

export interface ExampleOptions {
  split: Split;
  /** Copies of each item (each with a freshly drawn response variant). */
  repeats: number;
  /** Extra loss weight on the first response token (the refuse/comply decision). */
  firstTokenWeight: number;
  seed: number;
}

export function buildExamples(suites: PromptSuite[], tok: DemoTokenizer, o: ExampleOptions): TrainExample[] {
  const rng = new Rng(o.seed);
  const out: TrainExample[] = [];
  for (const s of suites) {
    for (const it of s.items) {
      if (it.split !== o.split || it.tags.includes('vanilla')) continue;
      for (let r = 0; r < o.repeats; r++) {
        const { ids, responseStart } = tok.conversationIds(it.instruction, responseFor(it, rng));
        // position i predicts ids[i+1]; response tokens are ids[responseStart..] up to and incl. <end_of_turn>
        const weights = new Array<number>(ids.length - 1).fill(0);
        for (let i = responseStart - 1; i < ids.length - 2; i++) weights[i] = 1; // excludes the trailing "\n"
        weights[responseStart - 1] = o.firstTokenWeight;
        out.push({ ids, weights });
      }
    }
  }
  return out;
}
