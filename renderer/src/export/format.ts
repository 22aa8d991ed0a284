/** Deterministic formatting helpers shared by every exporter. */

/** Fixed-precision number with trailing zeros trimmed; -0 becomes 0. Deterministic across platforms. */
export function fmt(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return String(x);
  let s = x.toFixed(digits);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s === '-0' ? '0' : s;
}

export function pct(x: number, digits = 1): string {
  return `${fmt(x * 100, digits)}%`;
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

export const escapeHtml = escapeXml;

/** Markdown table cell: pipes and newlines escaped. */
export function escapeMd(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** JSON with keys sorted at every level, so the same data always serialises to the same bytes. */
export function stableStringify(value: unknown, indent = 2): string {
  const norm = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(norm);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v as object).sort()) {
        const x = (v as Record<string, unknown>)[k];
        if (x !== undefined) out[k] = norm(x);
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(norm(value), null, indent);
}

/** Safe file-name fragment. */
export function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80) || 'export';
}
