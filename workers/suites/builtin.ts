/**
 * The built-in suites on disk (assets/suites): the index, and `resolveBuiltinSuite(name)`, the one place a
 * `builtin:<name>` reference becomes prompts. The file is read once and checked against the sha256 in the
 * index, so what a run records as the suite's version is what it actually read.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuiltinIndexSchema, builtinProvenance, type BuiltinIndex, type BuiltinSuiteEntry } from '../../common/suites/builtin.js';
import { importSuite } from '../../common/suites/import.js';
import { PromptSuiteSchema, type BuiltinProvenance, type PromptSuite } from '../../common/suites/schema.js';

// from a path string, not `new URL(…)`: under a DOM environment (component tests) URL is the DOM's
export const BUILTIN_SUITES_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'assets', 'suites') + path.sep;

const indexCache = new Map<string, BuiltinIndex>();

/** assets/suites/index.json, validated (cached per folder). */
export function builtinIndex(dir = BUILTIN_SUITES_DIR): BuiltinIndex {
  const hit = indexCache.get(dir);
  if (hit) return hit;
  const file = path.join(dir, 'index.json');
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read the built-in suite index (${(e as Error).message})`);
  }
  const r = BuiltinIndexSchema.safeParse(raw);
  if (!r.success) {
    const iss = r.error.issues[0]!;
    throw new Error(`${file}: not a built-in suite index (${iss.path.join('.')}: ${iss.message})`);
  }
  indexCache.set(dir, r.data);
  return r.data;
}

/** Reads a built-in file's text as shipped and turns it into a suite: role tag, split, ids `<name>-<k>`. */
export function parseBuiltinFile(entry: BuiltinSuiteEntry, text: string): PromptSuite {
  const s = importSuite(text, path.basename(entry.file), { name: entry.name, tags: [entry.role], idPrefix: entry.name, format: entry.format });
  return PromptSuiteSchema.parse({
    ...s,
    builtin: builtinProvenance(entry),
    items: entry.split ? s.items.map((it) => ({ ...it, split: entry.split })) : s.items,
  });
}

export interface ResolvedBuiltin {
  entry: BuiltinSuiteEntry;
  /** Absolute path of the shipped file. */
  file: string;
  suite: PromptSuite;
  provenance: BuiltinProvenance;
}

/** `advbench` (or `builtin:advbench`) → the suite, its file and provenance; unknown names list the known ones. */
export function resolveBuiltinSuite(nameIn: string, dir = BUILTIN_SUITES_DIR): ResolvedBuiltin {
  const name = nameIn.replace(/^builtin:/, '').trim();
  const idx = builtinIndex(dir);
  const entry = idx.suites.find((s) => s.name === name);
  if (!entry) throw new Error(`builtin:${name}: no such built-in suite (known: ${idx.suites.map((s) => s.name).join(', ')})`);
  const file = path.join(dir, ...entry.file.split('/'));
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`builtin:${name}: ${file}: cannot read (${(e as Error).message})`);
  }
  const sha = crypto.createHash('sha256').update(bytes).digest('hex');
  if (sha !== entry.sha256) {
    throw new Error(`builtin:${name}: ${file} has sha256 ${sha}, the index says ${entry.sha256}: the file was changed (run npm run suites:index if that was meant)`);
  }
  return { entry, file, suite: parseBuiltinFile(entry, bytes.toString('utf8')), provenance: builtinProvenance(entry) };
}

/** The folders whose files are built-in suites (raw/ holds the upstream originals, not suites). */
export const BUILTIN_SUITE_FOLDERS = ['refusal_direction/processed', 'refusal_direction/splits', 'refusal_sae'] as const;

export interface IndexAudit {
  /** Each entry with what its file holds now. */
  entries: Array<{ name: string; file: string; indexed: { items: number; bytes: number; sha256: string }; actual: { items: number; bytes: number; sha256: string } | null }>;
  /** Suite files in BUILTIN_SUITE_FOLDERS that no entry names. */
  unindexed: string[];
}

/** Recomputes every entry's item count, size and hash from its file (for the test and `npm run suites:index`). */
export function auditBuiltinIndex(dir = BUILTIN_SUITES_DIR, idx: BuiltinIndex = builtinIndex(dir)): IndexAudit {
  const entries = idx.suites.map((e) => {
    const file = path.join(dir, ...e.file.split('/'));
    const indexed = { items: e.items, bytes: e.bytes, sha256: e.sha256 };
    if (!fs.existsSync(file)) return { name: e.name, file: e.file, indexed, actual: null };
    const bytes = fs.readFileSync(file);
    const actual = {
      items: parseBuiltinFile(e, bytes.toString('utf8')).items.length,
      bytes: bytes.length,
      sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
    };
    return { name: e.name, file: e.file, indexed, actual };
  });
  const named = new Set(idx.suites.map((e) => e.file));
  const unindexed = BUILTIN_SUITE_FOLDERS.flatMap((f) =>
    fs.existsSync(path.join(dir, f))
      ? fs
          .readdirSync(path.join(dir, f))
          .filter((n) => /\.(json|csv)$/.test(n))
          .map((n) => `${f}/${n}`)
      : [],
  ).filter((f) => !named.has(f));
  return { entries, unindexed };
}
