import type { RunManifest } from '../views/types';
import { escapeHtml, escapeMd, stableStringify } from './format';

/** Every export carries the run manifest, so a figure in a paper traces back to its run. */

export function manifestJson(m: RunManifest): string {
  return stableStringify(m);
}

function summaryRows(m: RunManifest): Array<[string, string]> {
  const rows: Array<[string, string]> = [['run', m.runId]];
  if (m.kind) rows.push(['kind', m.kind]);
  if (m.createdAt) rows.push(['created', m.createdAt]);
  if (m.model) rows.push(['model', [m.model.name ?? m.model.path, m.model.hash && `sha256 ${m.model.hash}`].filter(Boolean).join(' · ')]);
  if (m.saes?.length) rows.push(['SAEs', m.saes.map((s) => `${s.id ?? s.path ?? '?'}${s.layer !== undefined ? ` (L${s.layer})` : ''}`).join(', ')]);
  if (m.backend) rows.push(['backend', m.backend]);
  if (m.seeds) rows.push(['seeds', Object.keys(m.seeds).sort().map((k) => `${k}=${m.seeds![k]}`).join(', ')]);
  if (m.versions) rows.push(['versions', Object.keys(m.versions).sort().map((k) => `${k} ${m.versions![k]}`).join(', ')]);
  return rows;
}

export function manifestMarkdown(m: RunManifest): string {
  const lines = ['## Manifest', '', '| field | value |', '|---|---|'];
  for (const [k, v] of summaryRows(m)) lines.push(`| ${k} | ${escapeMd(v)} |`);
  lines.push('', '```json', manifestJson(m), '```', '');
  return lines.join('\n');
}

export function manifestHtml(m: RunManifest): string {
  const rows = summaryRows(m).map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('');
  return `<section class="manifest"><h2>Manifest</h2><table>${rows}</table><details><summary>full manifest</summary><pre>${escapeHtml(manifestJson(m))}</pre></details></section>`;
}

/** For CSV: the manifest as leading `#` comment lines (pandas: `read_csv(..., comment='#')`). */
export function manifestCsvHeader(m: RunManifest): string {
  return `# manifest: ${JSON.stringify(JSON.parse(manifestJson(m)))}\n`;
}
