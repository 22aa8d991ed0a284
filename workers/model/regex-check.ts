/**
 * Regexes a downloaded tokenizer.json supplies (pre-tokenizer `Split`, normalizer `Replace`, …) run on
 * every prompt through JavaScript's backtracking engine, so a pattern with nested quantifiers such as
 * `(a+)+$` takes exponential time on a crafted or merely unlucky input. Tokenizer patterns in the wild
 * (GPT-2, Llama 3, Qwen, Gemma) have star height 1; a quantified group that itself contains an unbounded
 * quantifier is refused, naming the file and the JSON path.
 */
import { FileFormatError } from '../engine/errors.js';

/** Whether `pattern` applies an unbounded quantifier to a group that already contains one. */
export function hasNestedQuantifier(pattern: string): boolean {
  // Per open group: does it (transitively) contain an unbounded quantifier?
  const stack: boolean[] = [false];
  let lastGroupHadQuant: boolean | null = null; // the group that just closed, if the previous token was ')'
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      i++; // escaped char (\p{L} etc.: the braces are not a quantifier)
      if (pattern[i] === 'p' || pattern[i] === 'P') {
        if (pattern[i + 1] === '{') i = pattern.indexOf('}', i);
        if (i < 0) return false;
      }
      lastGroupHadQuant = null;
      continue;
    }
    if (c === '[') {
      // Character class: skip to its end (quantifier characters inside are literals).
      for (i++; i < pattern.length && pattern[i] !== ']'; i++) if (pattern[i] === '\\') i++;
      lastGroupHadQuant = null;
      continue;
    }
    if (c === '(') {
      stack.push(false);
      lastGroupHadQuant = null;
      continue;
    }
    if (c === ')') {
      const inner = stack.pop() ?? false;
      if (stack.length === 0) stack.push(false);
      lastGroupHadQuant = inner;
      if (inner) stack[stack.length - 1] = true;
      continue;
    }
    const unbounded = c === '*' || c === '+' || (c === '{' && /^\{\d*,\}/.test(pattern.slice(i)));
    if (unbounded) {
      if (lastGroupHadQuant) return true;
      stack[stack.length - 1] = true;
    }
    if (c === '{') {
      const close = pattern.indexOf('}', i);
      if (close > i && /^\{\d*,?\d*\}$/.test(pattern.slice(i, close + 1))) {
        i = close;
        continue; // a bounded {n,m} keeps the group's state for a following '?'
      }
    }
    if (c !== '?') lastGroupHadQuant = null;
  }
  return false;
}

/** Refuse a tokenizer.json whose regexes could backtrack exponentially. */
export function checkTokenizerRegexes(json: unknown, file: string): void {
  const walk = (v: unknown, at: string): void => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}[${i}]`));
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (k === 'Regex' && typeof x === 'string') {
          if (x.length > 10_000) throw new FileFormatError(file, `regex at ${at} is ${x.length} characters long; refused`);
          if (hasNestedQuantifier(x)) {
            throw new FileFormatError(file, `regex at ${at} has nested unbounded quantifiers (${JSON.stringify(x.slice(0, 80))}): it can backtrack exponentially, refused`);
          }
        } else walk(x, at ? `${at}.${k}` : k);
      }
    }
  };
  walk(json, '');
}
