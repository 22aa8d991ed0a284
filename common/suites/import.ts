/**
 * Prompt-suite importers: JSON (`[{instruction, category}]`, a list of strings, or a stored PromptSuite),
 * JSONL, CSV (AdvBench `goal,target`, HarmBench `Behavior,…`, JailbreakBench `Goal,…`, StrongREJECT
 * `forbidden_prompt`, or any CSV with an instruction-like column), plain text (one prompt a line) and the
 * WildJailbreak TSV (`vanilla`, `adversarial`, `data_type`). Bad input throws SuiteImportError naming the
 * line and the problem. Browser-safe.
 */
import { parseDelimitedWithHeader } from './csv.js';
import { SuiteImportError } from './errors.js';
import { parseJsonWithLines } from './json.js';
import { PromptSuiteSchema, type PromptItem, type PromptSuite } from './schema.js';

export type SuiteFormat = 'json' | 'jsonl' | 'csv' | 'tsv' | 'txt' | 'wildjailbreak';

export interface ImportOptions {
  /** Force a format instead of detecting it from the file name (and, for TSV, the header). */
  format?: SuiteFormat;
  /** Suite name; default: the file name without extension. */
  name?: string;
  /** Tags added to every item (e.g. ['harmful']). */
  tags?: string[];
  /** Id prefix; default: a slug of the name. Ids are `${prefix}-${index}` (0-based, in file order). */
  idPrefix?: string;
  /** WildJailbreak: emit a vanilla item for each adversarial row whose vanilla text is not already a
   *  vanilla row, so that every adversarial item has a `pair` (default false: pair only when present). */
  emitVanillaPairs?: boolean;
  /** Trim leading/trailing whitespace of prompts (default true; the reference's processed files are trimmed). */
  trim?: boolean;
}

/** Column names that hold the prompt, in priority order (case-insensitive). JailbreakBench has both
 *  `Goal` (the prompt) and `Behavior` (a short name), so goal comes first. */
const INSTRUCTION_KEYS = ['instruction', 'prompt', 'goal', 'forbidden_prompt', 'behavior', 'query', 'question', 'text'];
const CATEGORY_KEYS = ['category', 'semanticcategory'];

export function detectFormat(filename: string, text: string): SuiteFormat {
  const lower = filename.toLowerCase();
  const ext = lower.slice(lower.lastIndexOf('.') + 1);
  if (ext === 'json') return 'json';
  if (ext === 'jsonl' || ext === 'ndjson') return 'jsonl';
  if (ext === 'csv') return 'csv';
  if (ext === 'tsv') {
    const header = firstLine(text).split('\t').map((h) => h.trim().toLowerCase());
    return header.includes('data_type') && (header.includes('vanilla') || header.includes('adversarial')) ? 'wildjailbreak' : 'tsv';
  }
  if (ext === 'txt' || ext === 'text') return 'txt';
  // Sniff unknown extensions.
  const t = text.trimStart();
  if (t.startsWith('[') || t.startsWith('{"kind"')) return 'json';
  if (t.startsWith('{')) return 'jsonl';
  throw new SuiteImportError(0, `cannot tell the format of "${filename}" (use .json, .jsonl, .csv, .tsv or .txt)`, filename);
}

function firstLine(text: string): string {
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const k = s.search(/\r?\n/);
  return k < 0 ? s : s.slice(0, k);
}

function stem(filename: string): string {
  const base = filename.split(/[\\/]/).pop() ?? filename;
  const k = base.lastIndexOf('.');
  return k > 0 ? base.slice(0, k) : base;
}

export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'suite';
}

/** Parses a prompt suite from file text. Throws SuiteImportError (with line and file) on bad input. */
export function importSuite(text: string, filename: string, opts: ImportOptions = {}): PromptSuite {
  try {
    return importInner(text, filename, opts);
  } catch (e) {
    if (e instanceof SuiteImportError) throw e.withFile(filename);
    throw e;
  }
}

interface RawItem {
  line: number;
  instruction: unknown;
  category: unknown;
  tags?: string[];
  meta?: Record<string, string>;
  /** Internal: WildJailbreak pairing. */
  vanillaText?: string;
  kind?: 'vanilla' | 'adversarial';
}

function importInner(text: string, filename: string, opts: ImportOptions): PromptSuite {
  const format = opts.format ?? detectFormat(filename, text);
  const name = opts.name ?? stem(filename);
  const prefix = opts.idPrefix ?? slug(name);
  const source = { file: filename.split(/[\\/]/).pop() ?? filename, format };
  let raws: RawItem[];
  switch (format) {
    case 'json': {
      const { value, elementLines } = parseJsonWithLines(text);
      if (value && typeof value === 'object' && !Array.isArray(value) && (value as { kind?: unknown }).kind === 'prompt-suite') {
        const r = PromptSuiteSchema.safeParse(value);
        if (!r.success) {
          const iss = r.error.issues[0]!;
          throw new SuiteImportError(0, `not a valid prompt suite: ${iss.path.join('.')}: ${iss.message}`);
        }
        return r.data;
      }
      if (!Array.isArray(value)) {
        throw new SuiteImportError(1, 'expected a JSON array of {"instruction", "category"} objects or of strings');
      }
      raws = value.map((v, k) => fromRecord(v, elementLines[k] ?? 0));
      break;
    }
    case 'jsonl': {
      raws = [];
      const lines = stripBom(text).split(/\r?\n/);
      lines.forEach((l, k) => {
        if (l.trim() === '') return;
        let v: unknown;
        try {
          v = JSON.parse(l);
        } catch (e) {
          throw new SuiteImportError(k + 1, `invalid JSON on this line (${(e as Error).message})`);
        }
        raws.push(fromRecord(v, k + 1));
      });
      break;
    }
    case 'csv':
    case 'tsv': {
      const delimiter = format === 'csv' ? ',' : '\t';
      const { header, headerLine, rows } = parseDelimitedWithHeader(text, { delimiter, strictQuotes: format === 'csv' });
      const instKey = findKey(header, INSTRUCTION_KEYS);
      if (instKey === undefined) {
        throw new SuiteImportError(
          headerLine,
          `no prompt column in the header (${header.join(', ')}); expected one of ${INSTRUCTION_KEYS.join(', ')}`,
        );
      }
      const catKey = findKey(header, CATEGORY_KEYS);
      raws = rows.map(({ line, values }) => {
        const meta: Record<string, string> = {};
        for (const h of header) if (h !== instKey && h !== catKey && h !== '' && values[h] !== '') meta[h] = values[h]!;
        const cat = catKey !== undefined ? values[catKey] : undefined;
        return { line, instruction: values[instKey], category: cat === undefined || cat === '' ? null : cat, meta };
      });
      break;
    }
    case 'txt': {
      raws = [];
      stripBom(text)
        .split(/\r?\n/)
        .forEach((l, k) => {
          if (l.trim() !== '') raws.push({ line: k + 1, instruction: l, category: null });
        });
      break;
    }
    case 'wildjailbreak':
      raws = wildJailbreakRows(text);
      break;
    default:
      throw new SuiteImportError(0, `unknown format ${String(format)}`);
  }
  if (raws.length === 0) throw new SuiteImportError(0, 'the file has no prompts');

  const items: PromptItem[] = [];
  const vanillaIds = new Map<string, string>();
  const extraTags = opts.tags ?? [];
  for (const r of raws) {
    if (typeof r.instruction !== 'string' || r.instruction.trim() === '') {
      throw new SuiteImportError(r.line, r.instruction === undefined ? 'missing prompt text' : 'empty prompt text');
    }
    if (r.category !== null && typeof r.category !== 'string') {
      throw new SuiteImportError(r.line, `"category" must be a string or null, got ${typeof r.category}`);
    }
    const it: PromptItem = {
      id: `${prefix}-${items.length}`,
      instruction: opts.trim === false ? r.instruction : r.instruction.trim(),
      category: r.category,
      tags: uniq([...(r.tags ?? []), ...extraTags]),
    };
    if (r.meta && Object.keys(r.meta).length > 0) it.meta = r.meta;
    items.push(it);
    if (r.kind === 'vanilla' && !vanillaIds.has(r.instruction)) vanillaIds.set(r.instruction, it.id);
  }
  if (format === 'wildjailbreak') pairWildJailbreak(items, raws, vanillaIds, prefix, opts.emitVanillaPairs ?? false);

  const suite = { kind: 'prompt-suite' as const, schemaVersion: 1 as const, name, source, items };
  return PromptSuiteSchema.parse(suite);
}

function stripBom(s: string): string {
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

function uniq(a: string[]): string[] {
  return [...new Set(a)];
}

function findKey(header: string[], keys: string[]): string | undefined {
  for (const k of keys) {
    const h = header.find((x) => x.toLowerCase() === k);
    if (h !== undefined) return h;
  }
  return undefined;
}

function fromRecord(v: unknown, line: number): RawItem {
  if (typeof v === 'string') return { line, instruction: v, category: null };
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new SuiteImportError(line, `expected an object with "instruction" (or a string), got ${Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v}`);
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  const instKey = findKey(keys, INSTRUCTION_KEYS);
  if (instKey === undefined) {
    throw new SuiteImportError(line, `no "instruction" field (found ${keys.length ? keys.join(', ') : 'no fields'})`);
  }
  const catKey = findKey(keys, CATEGORY_KEYS);
  const meta: Record<string, string> = {};
  for (const k of keys) {
    if (k === instKey || k === catKey) continue;
    const x = o[k];
    if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') meta[k] = String(x);
  }
  let tags: string[] | undefined;
  if (Array.isArray(o.tags) && o.tags.every((t) => typeof t === 'string' && t !== '')) {
    tags = o.tags as string[];
    delete meta.tags;
  }
  return { line, instruction: o[instKey], category: catKey === undefined ? null : (o[catKey] ?? null), meta, ...(tags ? { tags } : {}) };
}

// ---------------------------------------------------------------------------------------------------
// WildJailbreak

export const WJB_DATA_TYPES = ['vanilla_harmful', 'adversarial_harmful', 'vanilla_benign', 'adversarial_benign'] as const;
export type WjbDataType = (typeof WJB_DATA_TYPES)[number];

const WJB_TAGS: Record<WjbDataType, string[]> = {
  vanilla_harmful: ['vanilla', 'harmful'],
  adversarial_harmful: ['adversarial', 'harmful'],
  vanilla_benign: ['vanilla', 'harmless', 'benign'],
  adversarial_benign: ['adversarial', 'harmless', 'benign'],
};

function wildJailbreakRows(text: string): RawItem[] {
  const { header, headerLine, rows } = parseDelimitedWithHeader(text, { delimiter: '\t', strictQuotes: false });
  // The train split has vanilla, adversarial, completion, data_type; the eval split adversarial, label, data_type.
  for (const need of ['adversarial', 'data_type']) {
    if (!header.includes(need)) {
      throw new SuiteImportError(headerLine, `WildJailbreak TSV needs a "${need}" column (header: ${header.join(', ')})`);
    }
  }
  return rows.map(({ line, values }) => {
    const dt = values.data_type!.trim();
    if (!(WJB_DATA_TYPES as readonly string[]).includes(dt)) {
      throw new SuiteImportError(line, `data_type ${JSON.stringify(dt)} is not one of ${WJB_DATA_TYPES.join(', ')}`);
    }
    const type = dt as WjbDataType;
    const adversarial = type.startsWith('adversarial');
    if (!adversarial && !header.includes('vanilla')) {
      throw new SuiteImportError(line, `${type} row but the file has no "vanilla" column`);
    }
    const instruction = adversarial ? values.adversarial : values.vanilla;
    if (!instruction || instruction.trim() === '') {
      throw new SuiteImportError(line, `${type} row with an empty "${adversarial ? 'adversarial' : 'vanilla'}" column`);
    }
    const meta: Record<string, string> = {};
    for (const h of header) {
      if (h === 'data_type' || h === (adversarial ? 'adversarial' : 'vanilla') || h === '' || !values[h]) continue;
      meta[h] = values[h]!;
    }
    return {
      line,
      instruction,
      category: type,
      tags: WJB_TAGS[type],
      meta,
      kind: adversarial ? 'adversarial' : 'vanilla',
      ...(adversarial && values.vanilla && values.vanilla.trim() !== '' ? { vanillaText: values.vanilla } : {}),
    };
  });
}

function pairWildJailbreak(
  items: PromptItem[],
  raws: RawItem[],
  vanillaIds: Map<string, string>,
  prefix: string,
  emit: boolean,
): void {
  const n = items.length;
  for (let k = 0; k < n; k++) {
    const r = raws[k]!;
    if (r.kind !== 'adversarial' || r.vanillaText === undefined) continue;
    let id = vanillaIds.get(r.vanillaText);
    if (id === undefined && emit) {
      const harmful = items[k]!.tags.includes('harmful');
      const type: WjbDataType = harmful ? 'vanilla_harmful' : 'vanilla_benign';
      id = `${prefix}-${items.length}`;
      items.push({ id, instruction: r.vanillaText, category: type, tags: uniq([...WJB_TAGS[type], 'rewrite-source', ...items[k]!.tags.filter((t) => !['adversarial', 'harmful', 'harmless', 'benign'].includes(t))]) });
      vanillaIds.set(r.vanillaText, id);
    }
    if (id !== undefined) items[k]!.pair = id;
  }
}

/**
 * W14: the reference keeps a GPT-4o rewrite of an adversarial prompt unless it is a refusal. Its filter
 * `"I'm sorry" not in x or "I can't assist" not in x` drops only rewrites containing both phrases; the
 * intended test (default) drops a rewrite containing either. `compat: true` reproduces the reference.
 */
export const REWRITE_REFUSAL_MARKERS = ["I'm sorry", "I can't assist"] as const;

export function isUsableRewrite(rewrite: string, opts: { compat?: boolean } = {}): boolean {
  const [a, b] = REWRITE_REFUSAL_MARKERS;
  const noA = !rewrite.includes(a);
  const noB = !rewrite.includes(b);
  return opts.compat ? noA || noB : noA && noB;
}

/** Keeps the (adversarial, rewrite) pairs whose rewrite is usable (see isUsableRewrite). */
export function filterRewrites<T extends { rewrite: string }>(pairs: readonly T[], opts: { compat?: boolean } = {}): T[] {
  return pairs.filter((p) => isUsableRewrite(p.rewrite, opts));
}
