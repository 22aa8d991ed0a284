/**
 * The corpus a feature-dashboard scan reads: prompt suites (the source's, built-in ones under assets/suites
 * by name — e.g. `alpaca`, `harmful_test` —, or any file the suite importer reads: prompt-suite JSON, JSON
 * lists, JSONL, CSV/TSV, one-prompt-a-line text), chat-formatted, each optionally followed by the model's own
 * greedy reply so the scan sees response tokens as well as prompt tokens.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { importSuite } from '../../common/suites/import.js';
import { seededShuffle } from '../../common/suites/ops.js';
import type { CausalLM } from '../model/types.js';
import { chunks, leftPad } from '../refusal/batch.js';
import type { CorpusSeq } from './dashboard.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BUILTIN_SUITES_DIR = path.join(REPO, 'assets', 'suites');

import { CorpusRefSchema, type CorpusRef } from '../../common/steps/features-dashboard.js';
export { CorpusRefSchema, type CorpusRef };

function walk(dir: string, out: string[] = []): string[] {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (/\.(json|jsonl|csv|tsv|txt)$/i.test(e.name)) out.push(p);
  }
  return out.sort();
}

/** Built-in suites by name (file stem), processed/ and splits/ before raw/. */
export function builtinSuites(dir = BUILTIN_SUITES_DIR): Map<string, string> {
  const m = new Map<string, string>();
  const files = walk(dir).sort((a, b) => Number(/[/\\]raw[/\\]/.test(a)) - Number(/[/\\]raw[/\\]/.test(b)) || a.localeCompare(b));
  for (const f of files) {
    const stem = path.basename(f).replace(/\.[^.]+$/, '');
    if (!m.has(stem)) m.set(stem, f);
  }
  return m;
}

/**
 * A reference → a file: an existing path (absolute, or relative to `base`), a name among `named` (the
 * source's suites), or a built-in suite name.
 */
export function resolveCorpusFile(ref: string, base: string, named: Array<{ name: string; file: string }>): string {
  const direct = path.isAbsolute(ref) ? ref : path.resolve(base, ref);
  if (fs.existsSync(direct) && fs.statSync(direct).isFile()) return direct;
  const n = named.find((s) => s.name === ref);
  if (n) return n.file;
  const b = builtinSuites().get(ref.replace(/\.[^.]+$/, ''));
  if (b) return b;
  throw new Error(`corpus "${ref}": not a file under ${base}, not one of the source's suites (${named.map((s) => s.name).join(', ') || 'none'}), nor a built-in suite in ${BUILTIN_SUITES_DIR}`);
}

export interface CorpusPrompt {
  source: string;
  text: string;
}

/** Up to `limit` prompts of each reference (seeded shuffle), in reference order. */
export function readCorpus(refs: CorpusRef[], base: string, named: Array<{ name: string; file: string }>, opts: { perSource: number; seed: number }): CorpusPrompt[] {
  const out: CorpusPrompt[] = [];
  for (const raw of refs) {
    const ref = CorpusRefSchema.parse(raw);
    const r = typeof ref === 'string' ? { path: ref } : ref;
    const file = resolveCorpusFile(r.path, base, named);
    let items = importSuite(fs.readFileSync(file, 'utf8'), path.basename(file)).items;
    if ('split' in r && r.split) {
      const f = items.filter((i) => i.split === r.split);
      if (f.length) items = f;
    }
    items = seededShuffle(items, opts.seed).slice(0, ('limit' in r && r.limit) || opts.perSource);
    const name = path.basename(file).replace(/\.[^.]+$/, '');
    for (const i of items) out.push({ source: name, text: i.instruction });
  }
  return out;
}

/** Chat-formatted prompts, each with the model's greedy reply (stop token included) when maxNewTokens > 0. */
export async function buildCorpus(
  model: CausalLM,
  prompts: CorpusPrompt[],
  encode: (text: string) => number[],
  opts: { maxNewTokens: number; stopTokens: number[]; batchSize?: number; signal?: AbortSignal; onBatch?: (done: number, of: number) => void },
): Promise<CorpusSeq[]> {
  const enc = prompts.map((p) => ({ ...p, ids: encode(p.text) }));
  if (opts.maxNewTokens <= 0) return enc.map((p) => ({ source: p.source, text: p.text, ids: p.ids, responseStart: p.ids.length }));
  const out: CorpusSeq[] = [];
  const batches = chunks(enc, opts.batchSize ?? 16);
  for (const [bi, ch] of batches.entries()) {
    if (opts.signal?.aborted) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
    const g = await model.generate(
      leftPad(
        ch.map((p) => p.ids),
        model.config.padTokenId,
      ),
      { maxNewTokens: opts.maxNewTokens, stopTokens: opts.stopTokens },
    );
    ch.forEach((p, b) => out.push({ source: p.source, text: p.text, ids: [...p.ids, ...(g.newTokens[b] ?? [])], responseStart: p.ids.length }));
    opts.onBatch?.(bi + 1, batches.length);
  }
  return out;
}
