/**
 * Versioned result files: each file a step writes carries `{kind, schemaVersion}`; its reader is a
 * `ResultDef` — the current zod schema plus one migration per older version (v → v+1). Readers upgrade an
 * old file step by step and then parse it with the current schema; writers validate with the same schema
 * before writing, so a mismatch fails at the writer, never in the UI. Pure (no node imports): the renderer,
 * the workers and the CLI all read results through here.
 */
import type { z } from 'zod';

/** One upgrade step: a file at version v (already known to be that version) → the layout of v + 1. */
export type Migration = (old: Record<string, unknown>) => Record<string, unknown>;

export interface ResultDef<S extends z.ZodType = z.ZodType> {
  /** The kind written today. */
  kind: string;
  /** The schema version written today. */
  version: number;
  /** The file's full current layout (including kind and schemaVersion). */
  schema: S;
  /** migrations[v] upgrades version v to v + 1; every version from `oldest` to version − 1 has one. */
  migrations: Record<number, Migration>;
  /** Oldest version the migrations reach back to (default: version). */
  oldest?: number;
  /** Kinds older versions were written under (e.g. `feature-graph` before it was namespaced). */
  legacyKinds?: readonly string[];
  /** What a person calls the file, for messages ("discovery results"). */
  title: string;
}

export function defineResult<S extends z.ZodType>(def: ResultDef<S>): ResultDef<S> {
  for (let v = def.oldest ?? def.version; v < def.version; v++)
    if (!def.migrations[v]) throw new Error(`${def.kind}: no migration from schemaVersion ${v}`);
  return def;
}

/** A result file that cannot be read: names the file and says what is wrong with it. */
export class ResultFileError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'ResultFileError';
  }
}

function issueText(e: z.ZodError): string {
  return e.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`)
    .join('; ');
}

/** Which version a raw file is, or a reason it is not this kind of file at all. */
function versionOf(def: ResultDef, raw: unknown): number | string {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return `not a ${def.title} file (expected a JSON object)`;
  const o = raw as Record<string, unknown>;
  if (o.kind !== def.kind && !(typeof o.kind === 'string' && def.legacyKinds?.includes(o.kind)))
    return `not a ${def.title} file (kind ${JSON.stringify(o.kind ?? null)}, expected "${def.kind}")`;
  const v = o.schemaVersion;
  if (typeof v !== 'number' || !Number.isInteger(v)) return `${def.title}: schemaVersion missing or not an integer`;
  if (v > def.version) return `${def.title} schemaVersion ${v} is newer than this build reads (up to ${def.version}): update the workbench`;
  if (v < (def.oldest ?? def.version)) return `${def.title} schemaVersion ${v} is older than any this build can upgrade (from ${def.oldest ?? def.version})`;
  return v;
}

/** Upgrade a parsed JSON value to the current version (no validation of the result yet). */
export function upgradeResult(def: ResultDef, raw: unknown, file: string): Record<string, unknown> {
  const v0 = versionOf(def, raw);
  if (typeof v0 === 'string') throw new ResultFileError(file, v0);
  let o = raw as Record<string, unknown>;
  for (let v = v0; v < def.version; v++) o = { ...def.migrations[v](o), kind: def.kind, schemaVersion: v + 1 };
  return o;
}

/** Read a result file's JSON value: check kind and version, migrate, validate with the current schema. */
export function readResult<S extends z.ZodType>(def: ResultDef<S>, raw: unknown, file: string): z.output<S> {
  const up = upgradeResult(def, raw, file);
  const r = def.schema.safeParse(up);
  if (!r.success) throw new ResultFileError(file, `${def.title} (schemaVersion ${def.version}) does not match its schema: ${issueText(r.error)}`);
  return r.data;
}

/** Read a result file's text (JSON.parse errors name the file too). */
export function readResultText<S extends z.ZodType>(def: ResultDef<S>, text: string, file: string): z.output<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ResultFileError(file, `not valid JSON (${(e as Error).message})`);
  }
  return readResult(def, raw, file);
}

/**
 * What a writer calls before it writes: the value must be the current version of the file, valid against
 * the schema the readers use. Returns the value itself (what is written is what was checked).
 */
export function checkResultForWrite<T>(def: ResultDef, value: T, file: string): T {
  const o = value as Record<string, unknown> | null;
  if (!o || o.kind !== def.kind || o.schemaVersion !== def.version)
    throw new ResultFileError(file, `refusing to write: a ${def.title} file must be {kind: "${def.kind}", schemaVersion: ${def.version}}`);
  const r = def.schema.safeParse(value);
  if (!r.success) throw new ResultFileError(file, `refusing to write ${def.title}: ${issueText(r.error)}`);
  return value;
}
