import type { RunManifest } from '../views/types';
import { escapeHtml, escapeMd, stableStringify } from './format';

/** Every export carries the run manifest, so a figure in a paper traces back to its run. */

export function manifestJson(m: RunManifest): string {
  return stableStringify(m);
}

function summaryRows(m: RunManifest): Array<[string, string]> {
  const rows: Array<[string, string]> = [['run', m.runId]];
  if (typeof m.step === 'string') rows.push(['step', m.step]);
  if (typeof m.status === 'string') rows.push(['status', m.status]);
  const started = m.createdAt ?? (typeof m.startedAt === 'string' ? m.startedAt : undefined);
  if (started) rows.push(['started', started]);
  if (m.model) rows.push(['model', [m.model.name ?? m.model.path, m.model.hash && `sha256 ${m.model.hash}`].filter(Boolean).join(' · ')]);
  if (m.saes?.length) rows.push(['SAEs', m.saes.map((s) => `${s.id ?? s.path ?? '?'}${s.layer !== undefined ? ` (L${s.layer})` : ''}`).join(', ')]);
  if (m.backend) rows.push(['backend', m.backend]);
  if (typeof m.seed === 'number') rows.push(['seed', String(m.seed)]);
  if (m.seeds) rows.push(['seeds', Object.keys(m.seeds).sort().map((k) => `${k}=${m.seeds![k]}`).join(', ')]);
  if (m.versions) rows.push(['versions', Object.keys(m.versions).sort().map((k) => `${k} ${m.versions![k]}`).join(', ')]);
  if (Array.isArray(m.inputs) && m.inputs.length)
    rows.push(['inputs', (m.inputs as Array<Record<string, unknown>>).map((i) => `${String(i.path ?? i.name ?? '?')}${i.sha256 || i.hash ? ` (${String(i.sha256 ?? i.hash).slice(0, 12)})` : ''}`).join(', ')]);
  if (m.timings && typeof m.timings.total === 'number') rows.push(['time', `${m.timings.total} s`]);
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
