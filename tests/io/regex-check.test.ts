/** Tokenizer regexes from a downloaded tokenizer.json: exponential-backtracking patterns are refused. */
import { describe, expect, it } from 'vitest';
import { checkTokenizerRegexes, hasNestedQuantifier } from '../../workers/model/regex-check.js';

// Patterns real tokenizers ship (GPT-2, Llama 3 / tiktoken cl100k, Qwen2) — all star height 1.
const REAL = [
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  ' ',
  '\\s+',
];

describe('tokenizer regex check', () => {
  it('accepts the patterns real tokenizers ship', () => {
    for (const p of REAL) expect(hasNestedQuantifier(p), p).toBe(false);
  });

  it('refuses nested unbounded quantifiers', () => {
    for (const p of ['(a+)+$', '(a*)*b', '((ab)*)+', '(?:\\s+)*x', '(a{1,})+', '(x+){2,}', '([a-z]+)*@']) expect(hasNestedQuantifier(p), p).toBe(true);
    for (const p of ['(a+)?', '(ab)+', '[(+)]+', '\\(a+\\)+', '(a{2})+', '(a+)(b+)']) expect(hasNestedQuantifier(p), p).toBe(false);
  });

  it('names the file and the JSON path', () => {
    const tj = { pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: '(a+)+$' } }] } };
    expect(() => checkTokenizerRegexes(tj, '/m/tokenizer.json')).toThrow(/^\/m\/tokenizer.json: regex at pre_tokenizer.pretokenizers\[0\].pattern has nested unbounded quantifiers/);
  });
});
