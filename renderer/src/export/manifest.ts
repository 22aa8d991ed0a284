import type { RunManifest } from '../../../common/schemas/run';

/** What an export carries: its run's manifest, or null for a figure that belongs to no single run. */
export type ExportManifest = RunManifest | null;
import { escapeHtml, escapeMd, stableStringify } from './format';

/** Every export carries the run manifest, so a figure in a paper traces back to its run. */

export function manifestJson(m: ExportManifest): string {
  return stableStringify(m);
}

function summaryRows(m: ExportManifest): Array<[string, string]> {
  if (!m) return [['run', 'none']];
  const rows: Array<[string, string]> = [
    ['run', m.id],
    ['step', m.step],
    ['status', m.status],
    ['started', m.startedAt],
  ];
  if (m.backend) rows.push(['backend', m.backend]);
  if (typeof m.seed === 'number') rows.push(['seed', String(m.seed)]);
  const versions = Object.keys(m.versions).sort();
  if (versions.length) rows.push(['versions', versions.map((k) => `${k} ${m.versions[k]}`).join(', ')]);
  if (m.inputs.length) rows.push(['inputs', m.inputs.map((i) => `${i.path}${i.sha256 ? ` (${i.sha256.slice(0, 12)})` : ''}`).join(', ')]);
  if (typeof m.timings.total === 'number') rows.push(['time', `${m.timings.total} s`]);
  return rows;
}

export function manifestMarkdown(m: ExportManifest): string {
  const lines = ['## Manifest', '', '| field | value |', '|---|---|'];
  for (const [k, v] of summaryRows(m)) lines.push(`| ${k} | ${escapeMd(v)} |`);
  lines.push('', '```json', manifestJson(m), '```', '');
  return lines.join('\n');
}

export function manifestHtml(m: ExportManifest): string {
  const rows = summaryRows(m).map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('');
  return `<section class="manifest"><h2>Manifest</h2><table>${rows}</table><details><summary>full manifest</summary><pre>${escapeHtml(manifestJson(m))}</pre></details></section>`;
}

/** For CSV: the manifest as leading `#` comment lines (pandas: `read_csv(..., comment='#')`). */
export function manifestCsvHeader(m: ExportManifest): string {
  return `# manifest: ${JSON.stringify(JSON.parse(manifestJson(m)))}\n`;
}
