/**
 * Verdict cache keyed by sha256(judge id, prompt, response), persisted as JSON lines. Each batch of new
 * verdicts is appended with one write (O_APPEND), so concurrent writers never interleave inside a line
 * and a crash leaves at most a truncated last line, which is skipped on load.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Judge, JudgeItem, Verdict } from './types.js';

export function judgeCacheKey(judgeId: string, prompt: string, response: string): string {
  // JSON encoding makes the concatenation unambiguous.
  return createHash('sha256').update(JSON.stringify([judgeId, prompt, response]), 'utf8').digest('hex');
}

interface Line {
  key: string;
  judge: string;
  verdict: Verdict;
}

export class JudgeCache {
  private readonly map = new Map<string, Verdict>();
  /** Lines skipped on load (corrupt or truncated). */
  skipped = 0;

  private constructor(readonly file: string | null) {}

  /** Opens (or starts) a cache file; `null` keeps it in memory only. */
  static async open(file: string | null): Promise<JudgeCache> {
    const c = new JudgeCache(file);
    if (file) {
      let text = '';
      try {
        text = await fs.readFile(file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      for (const l of text.split('\n')) {
        if (!l.trim()) continue;
        try {
          const o = JSON.parse(l) as Line;
          if (typeof o.key === 'string' && o.verdict && typeof o.verdict === 'object') c.map.set(o.key, o.verdict);
          else c.skipped++;
        } catch {
          c.skipped++;
        }
      }
    }
    return c;
  }

  get size(): number {
    return this.map.size;
  }

  get(key: string): Verdict | undefined {
    return this.map.get(key);
  }

  async put(entries: ReadonlyArray<{ key: string; judge: string; verdict: Verdict }>): Promise<void> {
    if (entries.length === 0) return;
    for (const e of entries) this.map.set(e.key, e.verdict);
    if (!this.file) return;
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    const text = entries.map((e) => JSON.stringify({ key: e.key, judge: e.judge, verdict: e.verdict }) + '\n').join('');
    // A leading newline guards against a previous truncated line swallowing our first record.
    let prefix = '';
    try {
      const st = await fs.stat(this.file);
      if (st.size > 0) {
        const fh = await fs.open(this.file, 'r');
        try {
          const b = Buffer.alloc(1);
          await fh.read(b, 0, 1, st.size - 1);
          if (b[0] !== 0x0a) prefix = '\n';
        } finally {
          await fh.close();
        }
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    await fs.appendFile(this.file, prefix + text, 'utf8');
  }
}

/** A judge that answers from the cache and sends only the misses (de-duplicated) to `inner`. */
export function cachedJudge(inner: Judge, cache: JudgeCache): Judge & { hits: number; misses: number } {
  const out = {
    id: inner.id,
    hits: 0,
    misses: 0,
    async judge(items: readonly JudgeItem[], signal?: AbortSignal): Promise<Verdict[]> {
      const keys = items.map((it) => judgeCacheKey(inner.id, it.prompt, it.response));
      const result: (Verdict | undefined)[] = keys.map((k) => cache.get(k));
      const missIdx = new Map<string, number[]>();
      keys.forEach((k, i) => {
        if (result[i] !== undefined) {
          out.hits++;
          return;
        }
        if (!missIdx.has(k)) missIdx.set(k, []);
        missIdx.get(k)!.push(i);
      });
      if (missIdx.size > 0) {
        const firsts = [...missIdx.values()].map((ix) => ix[0]!);
        out.misses += firsts.length;
        const verdicts = await inner.judge(firsts.map((i) => items[i]!), signal);
        if (verdicts.length !== firsts.length) throw new Error(`judge ${inner.id} returned ${verdicts.length} verdicts for ${firsts.length} items`);
        const entries: { key: string; judge: string; verdict: Verdict }[] = [];
        firsts.forEach((i, k) => {
          const v = verdicts[k]!;
          for (const j of missIdx.get(keys[i]!)!) result[j] = v;
          // Invalid answers are not cached, so a later run retries them.
          if (!v.invalid) entries.push({ key: keys[i]!, judge: inner.id, verdict: v });
        });
        await cache.put(entries);
      }
      return result as Verdict[];
    },
  };
  return out;
}
