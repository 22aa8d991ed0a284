import { mkdtempSync, readFileSync, appendFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cachedJudge, JudgeCache, judgeCacheKey, type Judge, type JudgeItem, type Verdict } from '../../workers/eval/judges/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'rw-judge-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function countingJudge(id = 'fake:v1'): Judge & { calls: JudgeItem[][] } {
  const calls: JudgeItem[][] = [];
  return {
    id,
    calls,
    async judge(items) {
      calls.push([...items]);
      return items.map((it): Verdict => (it.response === 'bad' ? { raw: '??', invalid: true } : { refused: it.response.includes('no'), score: it.response.length }));
    },
  };
}

describe('judge cache', () => {
  it('keys are sha256 of (judge, prompt, response), unambiguous', () => {
    const k = judgeCacheKey('j', 'a', 'b');
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(judgeCacheKey('j', 'a', 'b')).toBe(k);
    expect(judgeCacheKey('j', 'a b', '')).not.toBe(judgeCacheKey('j', 'a', ' b'));
    expect(judgeCacheKey('k', 'a', 'b')).not.toBe(k);
  });

  it('sends only misses (deduplicated), persists JSON lines, reloads, skips a truncated line', async () => {
    const file = path.join(dir, 'sub', 'judge-cache.jsonl');
    const inner = countingJudge();
    const j = cachedJudge(inner, await JudgeCache.open(file));
    const items = [
      { prompt: 'p1', response: 'no way' },
      { prompt: 'p2', response: 'sure' },
      { prompt: 'p1', response: 'no way' },
      { prompt: 'p3', response: 'bad' },
    ];
    const v1 = await j.judge(items);
    expect(inner.calls.length).toBe(1);
    expect(inner.calls[0]!.length).toBe(3);
    expect(v1[0]).toEqual(v1[2]);
    expect(v1[3]!.invalid).toBe(true);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.length).toBe(2); // invalid verdicts are not cached
    expect(JSON.parse(lines[0]!)).toMatchObject({ judge: 'fake:v1', verdict: { refused: true } });

    // Simulate a crash mid-write, then reopen.
    appendFileSync(file, '{"key":"abc","judge":"fake:v1","verd');
    const cache2 = await JudgeCache.open(file);
    expect(cache2.size).toBe(2);
    expect(cache2.skipped).toBe(1);
    const inner2 = countingJudge();
    const j2 = cachedJudge(inner2, cache2);
    const v2 = await j2.judge(items);
    expect(v2.slice(0, 3)).toEqual(v1.slice(0, 3));
    expect(inner2.calls.map((c) => c.length)).toEqual([1]); // only the invalid one again
    expect(j2.hits).toBe(3);
    // A new entry after the truncated line still loads.
    await j2.judge([{ prompt: 'p4', response: 'no' }]);
    const cache3 = await JudgeCache.open(file);
    expect(cache3.size).toBe(3);
  });

  it('different judge ids do not share entries', async () => {
    const cache = await JudgeCache.open(null);
    const a = cachedJudge(countingJudge('a'), cache);
    const bInner = countingJudge('b');
    const b = cachedJudge(bInner, cache);
    await a.judge([{ prompt: 'x', response: 'y' }]);
    await b.judge([{ prompt: 'x', response: 'y' }]);
    expect(bInner.calls.length).toBe(1);
  });
});

describe('judge factory', () => {
  it('builds substring and http judges from specs, cached when asked', async () => {
    const { makeJudge } = await import('../../workers/eval/judges/index.js');
    const cache = await JudgeCache.open(null);
    const s = await makeJudge({ type: 'substring' }, { cache });
    expect(s.id).toBe('substring:v1:exact');
    expect(await s.judge([{ prompt: 'p', response: "I can't" }])).toEqual([{ refused: true, score: 1 }]);
    expect(cache.size).toBe(1);
    const h = await makeJudge({ type: 'http', url: 'http://127.0.0.1:9/v1', model: 'm' });
    expect(h.id).toBe('http:http://127.0.0.1:9/v1/chat/completions:m:harmbench');
    await expect(makeJudge({ type: 'model', path: '/x/cls', format: 'harmbench' })).rejects.toThrow(/loader/);
    await expect(makeJudge({ type: 'nope' } as never)).rejects.toThrow();
  });
});
