import type { ExportManifest } from './manifest';
import { manifestCsvHeader } from './manifest';
import { stableStringify } from './format';

export interface Column<T> {
  key: string;
  header: string;
  value: (row: T) => string | number | null | undefined;
}

function csvCell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
  return /[",\n\r#]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV with the manifest as a leading `# manifest: {...}` comment line. */
export function toCsv<T>(rows: T[], columns: Column<T>[], manifest: ExportManifest): string {
  const lines = [columns.map((c) => csvCell(c.header)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvCell(c.value(r))).join(','));
  return manifestCsvHeader(manifest) + lines.join('\n') + '\n';
}

/** JSON data export: `{kind, schemaVersion, manifest, data}` with sorted keys. */
export function toJsonExport(kind: string, data: unknown, manifest: ExportManifest): string {
  return stableStringify({ kind, schemaVersion: 1, manifest, data }) + '\n';
}
