/**
 * Schema migrations for project files. Each file kind has a list of small functions that upgrade
 * version n to n+1; they are tested against frozen old files in tests/shell/fixtures/.
 *
 * History
 * - project.json v1 (first prototype): `{title, model?, saes?, backend?}` → v2 `{name, createdAt, sources, settings}`.
 * - features.json v1 (first prototype): `{labels: {id: string}, notes?: {id: string}}` → v2 `{features: {id: {label, notes, tags}}}`.
 */
import {
  PROJECT_KIND,
  PROJECT_SCHEMA_VERSION,
  ProjectFileSchema,
  type ProjectFile,
  type Source,
} from '../../common/schemas/project.js';
import {
  FEATURES_KIND,
  FEATURES_SCHEMA_VERSION,
  FeaturesFileSchema,
  type FeaturesFile,
  type FeatureNote,
} from '../../common/schemas/features.js';
import { CorruptFileError, UnsupportedVersionError } from './errors.js';

type Json = Record<string, unknown>;
type Migration = (old: Json) => Json;

interface FileKind<T> {
  kind: string;
  current: number;
  /** migrations[n] upgrades version n to n+1 */
  migrations: Record<number, Migration>;
  parse(v: unknown): T;
}

function asObject(v: unknown): Json | null {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null;
}

export function migrateFile<T>(file: string, raw: unknown, spec: FileKind<T>): { value: T; migratedFrom: number | null } {
  const obj = asObject(raw);
  if (!obj) throw new CorruptFileError(file, 'expected a JSON object');
  if (obj.kind !== spec.kind) throw new CorruptFileError(file, `expected kind "${spec.kind}", found ${JSON.stringify(obj.kind)}`);
  const v0 = obj.schemaVersion;
  if (typeof v0 !== 'number' || !Number.isInteger(v0) || v0 < 1) {
    throw new CorruptFileError(file, `schemaVersion must be a positive integer, found ${JSON.stringify(v0)}`);
  }
  if (v0 > spec.current) throw new UnsupportedVersionError(file, v0, spec.current);
  let cur: Json = obj;
  for (let v = v0; v < spec.current; v++) {
    const m = spec.migrations[v];
    if (!m) throw new CorruptFileError(file, `no migration from schemaVersion ${v}`);
    cur = { ...m(cur), kind: spec.kind, schemaVersion: v + 1 };
  }
  try {
    return { value: spec.parse(cur), migratedFrom: v0 === spec.current ? null : v0 };
  } catch (e) {
    const msg =
      e && typeof e === 'object' && 'issues' in e
        ? (e as { issues: { path: PropertyKey[]; message: string }[] }).issues
            .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
            .join('; ')
        : String(e);
    throw new CorruptFileError(file, `does not match the schema: ${msg}`);
  }
}

export const projectKind: FileKind<ProjectFile> = {
  kind: PROJECT_KIND,
  current: PROJECT_SCHEMA_VERSION,
  migrations: {
    1: (old) => {
      const sources: Source[] = [];
      if (typeof old.model === 'string') sources.push({ type: 'model', path: old.model });
      if (Array.isArray(old.saes)) for (const s of old.saes) if (typeof s === 'string') sources.push({ type: 'sae', path: s });
      const backend = typeof old.backend === 'string' ? old.backend : 'auto';
      return {
        name: typeof old.title === 'string' && old.title ? old.title : 'Untitled project',
        createdAt: typeof old.created === 'string' ? old.created : new Date(0).toISOString(),
        sources,
        settings: { backend, seed: 0 },
      };
    },
  },
  parse: (v) => ProjectFileSchema.parse(v),
};

export const featuresKind: FileKind<FeaturesFile> = {
  kind: FEATURES_KIND,
  current: FEATURES_SCHEMA_VERSION,
  migrations: {
    1: (old) => {
      const labels = asObject(old.labels) ?? {};
      const notes = asObject(old.notes) ?? {};
      const features: Record<string, FeatureNote> = {};
      for (const id of new Set([...Object.keys(labels), ...Object.keys(notes)])) {
        features[id] = {
          label: typeof labels[id] === 'string' ? (labels[id] as string) : '',
          notes: typeof notes[id] === 'string' ? (notes[id] as string) : '',
          tags: [],
        };
      }
      return { features };
    },
  },
  parse: (v) => FeaturesFileSchema.parse(v),
};
