/**
 * Reading a pipeline's `evaluate` entries: prompt suites (any importable format, split/tag/limit filters),
 * plain-text samples for CE (a .txt file split into paragraphs, or JSON lines with a text field) and
 * capability files (ARC / GSM8K JSON or JSON lines). Errors name the file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadSuitePrompts, resolve, type Pipeline, type SuiteRef } from '../project.js';
import type { JudgeSpec } from '../../eval/judges/factory.js';
import type { BuiltinProvenance } from '../../../common/suites/schema.js';
import { parseCapabilityFile } from './capability.js';
import type { EvalSuite } from './run.js';
import { FILE_LIMITS, readUserText } from '../../engine/io/user-file.js';

const DEFAULT_GROUP_BY = ['wrapper:', 'tactic:', 'meta:tactics'];

function refObj(ref: SuiteRef): Exclude<SuiteRef, string> {
  return typeof ref === 'string' ? { path: ref } : ref;
}

/** Identity of a suite reference (resolved path + filters). */
export function suiteKey(base: string, ref: SuiteRef): string {
  const r: Record<string, unknown> = { ...refObj(ref) };
  r.path = resolve(base, String(r.path));
  // canonical key order, so the same reference written twice is recognised
  return JSON.stringify(Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b))));
}

/** Table name of a suite: the file name without extension, plus the split when one is chosen. */
export function suiteName(base: string, ref: SuiteRef): string {
  const r = refObj(ref);
  const stem = path.basename(r.path).replace(/\.[^.]+$/, '');
  return r.split ? `${stem}:${r.split}` : stem;
}

function readText(file: string, what: string): string {
  // Bounded (regular files only, size limit): a user-named sample could be /dev/zero.
  return readUserText(file, { maxBytes: FILE_LIMITS.suite, what });
}

/** Documents of a text sample: JSON lines ({text} / {content} / {document} or a string), else paragraphs. */
export function textDocuments(text: string, file: string): string[] {
  const lower = file.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) {
    return text
      .split(/\r?\n/)
      .filter((l) => l.trim())
      .map((l, i) => {
        let o: unknown;
        try {
          o = JSON.parse(l);
        } catch (e) {
          throw new Error(`${file}:${i + 1}: not a JSON line (${(e as Error).message})`);
        }
        if (typeof o === 'string') return o;
        const rec = o as Record<string, unknown>;
        const t = rec.text ?? rec.content ?? rec.document;
        if (typeof t !== 'string') throw new Error(`${file}:${i + 1}: no "text" field`);
        return t;
      });
  }
  return text
    .split(/\r?\n\s*\r?\n/)
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
}

export interface LoadedEval {
  suite: Omit<EvalSuite, 'judges'>;
  judges?: JudgeSpec[];
  file: string;
  /** The built-in suite this is, for the manifest. */
  builtin?: BuiltinProvenance;
}

export function loadEvalSuites(base: string, pl: Pipeline): LoadedEval[] {
  const out: LoadedEval[] = [];
  const names = new Map<string, number>();
  for (const e of pl.evaluate ?? []) {
    const r = refObj(e.suite);
    const file = resolve(base, r.path);
    let name = e.name ?? suiteName(base, e.suite);
    const seen = names.get(name) ?? 0;
    names.set(name, seen + 1);
    if (seen) name = `${name}#${seen + 1}`;
    const common = {
      name,
      role: e.role,
      key: suiteKey(base, e.suite),
      groupBy: e.groupBy ?? (e.role === 'adversarial' ? DEFAULT_GROUP_BY : []),
      scoring: e.scoring ?? 'loglik',
      suffixAnalysis: e.suffixAnalysis ?? false,
    } as const;
    const judges = e.judge === undefined ? undefined : Array.isArray(e.judge) ? e.judge : [e.judge];
    if (e.role === 'text') {
      const docs = textDocuments(readText(file, 'a text sample'), file).slice(0, r.limit ?? Infinity);
      if (!docs.length) throw new Error(`${file}: no text documents`);
      out.push({ suite: { ...common, items: [], texts: docs }, file });
    } else if (e.role === 'capability') {
      const capability = parseCapabilityFile(readText(file, 'a capability suite'), file, r.limit);
      out.push({ suite: { ...common, items: [], capability }, file });
    } else {
      const s = loadSuitePrompts(base, e.suite);
      let items = s.items;
      if (e.role === 'adversarial' && (r.split || r.limit || r.tags)) {
        // the vanilla items the adversarial ones pair with (suffix analysis), even when the filters dropped them
        const ids = new Set(items.map((i) => i.id));
        const want = new Set(items.map((i) => i.pair).filter((x): x is string => !!x && !ids.has(x)));
        if (want.size) items = [...items, ...loadSuitePrompts(base, { path: r.path }).items.filter((i) => want.has(i.id))];
      }
      out.push({ suite: { ...common, items }, ...(judges ? { judges } : {}), file: s.file, ...(s.builtin ? { builtin: s.builtin } : {}) });
    }
  }
  return out;
}

/** The one atomic writer (workers/io/atomic.ts, via runs.ts). */
export { writeTextAtomic } from '../runs.js';
