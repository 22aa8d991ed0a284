import type { CategoriesVM, ProbeReportVM, RunResultsVM } from '../views/types';
import { escapeHtml, escapeMd, fmt, pct } from './format';
import { manifestHtml, manifestMarkdown, type ExportManifest } from './manifest';
import { lineChartSvg, type LineSeries } from './svg';

/** A report is a title, sections of tables and figures; rendered to Markdown or HTML from one description. */
export interface ReportTable {
  caption: string;
  headers: string[];
  rows: string[][];
}
export interface Report {
  title: string;
  intro?: string;
  tables: ReportTable[];
  /** inline SVG figures (HTML embeds them; Markdown links the file name) */
  figures: Array<{ caption: string; svg: string; file: string }>;
  manifest: ExportManifest;
}

export function reportToMarkdown(r: Report): string {
  const o: string[] = [`# ${r.title}`, ''];
  if (r.intro) o.push(r.intro, '');
  for (const t of r.tables) {
    o.push(`### ${t.caption}`, '', `| ${t.headers.map(escapeMd).join(' | ')} |`, `|${t.headers.map(() => '---').join('|')}|`);
    for (const row of t.rows) o.push(`| ${row.map(escapeMd).join(' | ')} |`);
    o.push('');
  }
  for (const f of r.figures) o.push(`![${escapeMd(f.caption)}](${f.file})`, '');
  o.push(manifestMarkdown(r.manifest));
  return o.join('\n');
}

export function reportToHtml(r: Report): string {
  const o: string[] = [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(r.title)}</title>`,
    '<style>body{font:14px/1.45 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1d1d1f}table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}figure{margin:1rem 0}pre{background:#f5f5f5;padding:.5rem;overflow:auto;font-size:12px}@media print{details{display:none}}</style>',
    '</head><body>',
    `<h1>${escapeHtml(r.title)}</h1>`,
  ];
  if (r.intro) o.push(`<p>${escapeHtml(r.intro)}</p>`);
  for (const t of r.tables) {
    o.push(`<table><caption>${escapeHtml(t.caption)}</caption><thead><tr>${t.headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>`);
    for (const row of t.rows) o.push(`<tr>${row.map((c) => `<td${/^[-\d.%[\], ]+$/.test(c) ? ' class="num"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`);
    o.push('</tbody></table>');
  }
  for (const f of r.figures) o.push(`<figure>${f.svg.replace(/<metadata[\s\S]*?<\/metadata>/, '')}<figcaption>${escapeHtml(f.caption)}</figcaption></figure>`);
  o.push(manifestHtml(r.manifest), '</body></html>', '');
  return o.join('\n');
}

// ───────────── probes ─────────────


export const PROBE_COLORS = { inDist: '#2f6fde', ood: '#d9480f', refusal: '#2b8a3e', random: '#868e96', other: '#7048e8' };

/** Series for the probe figure: dense probe per layer (in-dist and OOD), other probes as points with whiskers. */
export function probeSeries(report: ProbeReportVM): LineSeries[] {
  const series: LineSeries[] = [];
  const dense = report.probes.find((p) => p.perLayer && p.perLayer.length > 0);
  if (dense?.perLayer) {
    series.push({ name: `${dense.name} in-dist`, color: PROBE_COLORS.inDist, points: dense.perLayer.map((q) => ({ x: q.layer, y: q.valAcc, lo: q.valCi?.[0], hi: q.valCi?.[1] })) });
    series.push({ name: `${dense.name} OOD`, color: PROBE_COLORS.ood, dashed: true, points: dense.perLayer.map((q) => ({ x: q.layer, y: q.oodAcc, lo: q.oodCi?.[0], hi: q.oodCi?.[1] })) });
  }
  const layers = dense?.perLayer?.map((q) => q.layer) ?? [];
  const rightX = layers.length ? Math.max(...layers) + 1 : 1;
  for (const p of report.probes) {
    if (p === dense) continue;
    const color = /random/i.test(p.name + p.features) ? PROBE_COLORS.random : /refusal/i.test(p.name + p.features) ? PROBE_COLORS.refusal : PROBE_COLORS.other;
    series.push({ name: `${p.name} OOD`, color, pointsOnly: true, points: [{ x: p.layer ?? rightX, y: p.oodAcc, lo: p.oodAccCi[0], hi: p.oodAccCi[1] }] });
  }
  return series;
}

export function probeFigureSvg(report: ProbeReportVM): string {
  return lineChartSvg({ title: 'Probe accuracy per layer: in-distribution vs OOD', xLabel: 'layer', yLabel: 'accuracy', series: probeSeries(report) }, report.manifest);
}

// ───────────── discovery run ─────────────

export function runReport(res: RunResultsVM): Report {
  const rows = [...res.rates]
    .sort((a, b) => (a.suite === b.suite ? a.method.localeCompare(b.method) : a.suite.localeCompare(b.suite)))
    .map((c) => [c.suite, c.method, pct(c.refusal), pct(c.jailbreak ?? 1 - c.refusal), String(c.n)]);
  const tables: ReportTable[] = [{ caption: 'Refusal and jailbreak rate per method × suite', headers: ['suite', 'method', 'refusal', 'jailbreak', 'n'], rows }];
  if (res.harmlessRefusal?.length)
    tables.push({ caption: 'Refusal on harmless prompts', headers: ['method', 'refusal', 'n'], rows: res.harmlessRefusal.map((c) => [c.method, pct(c.refusal), String(c.n)]) });
  if (res.sideEffects?.length)
    tables.push({ caption: 'Side effects (CE loss)', headers: ['method', 'CE', 'n'], rows: res.sideEffects.map((s) => [s.method, fmt(s.ce, 4), s.n === undefined ? '—' : String(s.n)]) });
  return { title: `Discovery run — ${res.runId}`, tables, figures: [], manifest: res.manifest };
}

// ───────────── categories ─────────────

export function categoriesReport(c: CategoriesVM): Report {
  const tables: ReportTable[] = [
    {
      caption: 'Interventions',
      headers: ['condition', 'category', 'target', 'refusal rate', 'n'],
      rows: c.interventions.map((i) => [i.condition, i.category, i.target ?? '—', pct(i.refusalRate), String(i.n)]),
    },
    { caption: 'Common set (every category)', headers: ['feature'], rows: c.common.map((k) => [k]) },
    {
      caption: 'Specific sets',
      headers: ['category', 'features'],
      rows: c.categories.map((cat) => [cat, (c.specific[cat] ?? []).join(', ')]),
    },
  ];
  return {
    title: `Harm categories — ${c.runId}`,
    intro:
      c.commonDropWhenSpecificClamped === undefined
        ? undefined
        : `Common-feature activation drop when the specific set is clamped: ${pct(c.commonDropWhenSpecificClamped)}.`,
    tables,
    figures: [],
    manifest: c.manifest,
  };
}
