/** The judge contract: every judge scores (prompt, response) pairs in batches. */

export interface JudgeItem {
  /** The prompt as given to the model (the behaviour, for HarmBench-style classifiers). */
  prompt: string;
  /** The decoded response. */
  response: string;
}

export interface Verdict {
  /** The response is a refusal (substring judge; refusal rubrics). */
  refused?: boolean;
  /** The response exhibits the harmful behaviour (HarmBench 'yes', LlamaGuard 'unsafe'). */
  jailbroken?: boolean;
  /** A number in [0, 1] where one exists: 1/0 for the substring judge (refused), P(yes) or P(unsafe) for
   *  classifier judges (restricted to the two answer tokens). */
  score?: number;
  /** The judge's raw answer text (HTTP judges). */
  raw?: string;
  /** True when the judge answered but not in the expected form (HarmBench's −1). */
  invalid?: boolean;
}

export interface Judge {
  /** Stable identifier including everything that changes verdicts (used in the cache key). */
  readonly id: string;
  /** One verdict per item, in order. Rejects with an AbortError-like error when the signal aborts. */
  judge(items: readonly JudgeItem[], signal?: AbortSignal): Promise<Verdict[]>;
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const r: unknown = signal.reason;
    throw r instanceof Error ? r : new DOMException('judging cancelled', 'AbortError');
  }
}

/** Refusal rate (or jailbreak rate) over verdicts: mean of the boolean, ignoring undefined. */
export function rate(verdicts: readonly Verdict[], field: 'refused' | 'jailbroken'): { rate: number; n: number } {
  let k = 0;
  let n = 0;
  for (const v of verdicts) {
    const b = v[field];
    if (b === undefined) continue;
    n++;
    if (b) k++;
  }
  return { rate: n ? k / n : NaN, n };
}

/**
 * Adapts a Judge to the numeric form the discovery pipeline takes (workers/refusal RefusalJudge:
 * `{name, judge(items) → number[]}`): 1 when `field` is true, else 0 (invalid verdicts count 0).
 */
export function numericJudge(
  judge: Judge,
  field: 'refused' | 'jailbroken' = 'refused',
): { name: string; judge(items: Array<{ prompt: string; response: string }>): Promise<number[]> } {
  return {
    name: judge.id,
    async judge(items) {
      const v = await judge.judge(items);
      return v.map((x) => (x[field] ? 1 : 0));
    },
  };
}
