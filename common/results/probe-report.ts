/**
 * The probe report (runs/<id>/probe-report.json of `refusal.probe`) and its one set of writers
 * (workers/probes/report-files.ts writes them; the renderer's Probes and Exports views call the same functions): the stored JSON (zod schema, re-loadable), CSV tables, Markdown,
 * standalone HTML and an inline SVG line chart of accuracy per layer (in-distribution vs OOD). Every
 * writer is a pure, deterministic string function with no node imports, so the renderer can use it too.
 */
import { z } from 'zod';
import { checkResultForWrite, defineResult, readResultText } from './versioned.js';

const num = z.number().nullable();
const ci = z.tuple([num, num]);

export const ProbeGroupSchema = z.object({ acc: num, n: z.number().int().nonnegative(), lo: num, hi: num });

export const ProbeLayerPointSchema = z.object({
  layer: z.number().int(),
  /** λ chosen for this layer on validation. */
  l2: z.number(),
  val_acc: num,
  /** OOD accuracy of this layer's probe (reported for the figure; never used to choose). */
  ood_acc: num,
  ood_acc_ci: ci.optional(),
});
export type ProbeLayerPoint = z.infer<typeof ProbeLayerPointSchema>;

export const ProbeResultSchema = z.object({
  name: z.string().min(1),
  /** What the probe reads, e.g. "resid_post (d=2304)", "refusal features (7)", "random features (7)". */
  features: z.string(),
  /** Chosen layer; null for probes over features from several layers. */
  layer: z.number().int().nullable(),
  l2: z.number().nullable(),
  val_acc: num,
  ood_acc: num,
  ood_acc_ci: ci,
  auroc: num,
  auroc_ci: ci.optional(),
  f1: num,
  f1_ci: ci.optional(),
  balanced_acc: num,
  balanced_acc_ci: ci.optional(),
  per_group: z.record(z.string(), ProbeGroupSchema),
  per_layer: z.array(ProbeLayerPointSchema),
  n_train: z.number().int().nonnegative().optional(),
  n_val: z.number().int().nonnegative().optional(),
  n_ood: z.number().int().nonnegative().optional(),
});
export type ProbeResult = z.infer<typeof ProbeResultSchema>;

export const ProbeManifestSchema = z.looseObject({
  runId: z.string(),
  createdAt: z.string(),
  tool: z.object({ name: z.string(), version: z.string() }).optional(),
  model: z.looseObject({ name: z.string(), sha256: z.string().optional() }).optional(),
  sae: z.looseObject({ name: z.string() }).optional(),
  seed: z.number(),
  /** Inputs and their content hashes (prompt suites, activations, feature sets). */
  inputs: z.array(z.looseObject({ name: z.string(), sha256: z.string().optional(), n: z.number().optional() })),
  params: z.record(z.string(), z.unknown()),
  backend: z.string().optional(),
  versions: z.record(z.string(), z.string()).optional(),
  timings: z.record(z.string(), z.number()).optional(),
  /** Group labels for per_group keys, e.g. {"0": "adversarial", "1": "vanilla"}. */
  groupNames: z.record(z.string(), z.string()).optional(),
});
export type ProbeManifest = z.infer<typeof ProbeManifestSchema>;

export const PROBE_REPORT_KIND = 'refusal-workbench/probe-report' as const;
export const PROBE_REPORT_VERSION = 2 as const;

export const ProbeRunResultSchema = z.object({
  kind: z.literal(PROBE_REPORT_KIND),
  schemaVersion: z.literal(PROBE_REPORT_VERSION),
  manifest: ProbeManifestSchema,
  probes: z.array(ProbeResultSchema),
});
export type ProbeRunResult = z.infer<typeof ProbeRunResultSchema>;


/** Version 1 was written under the bare kind `probe-run`; version 2 is namespaced (same fields). */
export const probeReport = defineResult({
  kind: PROBE_REPORT_KIND,
  version: PROBE_REPORT_VERSION,
  oldest: 1,
  legacyKinds: ['probe-run'],
  title: 'probe report',
  schema: ProbeRunResultSchema,
  migrations: { 1: (o) => o },
});


// ---------------------------------------------------------------------------------------------------
/** The `probe --json` last line: {"probes": [{name, features, layer, val_acc, ood_acc, ood_acc_ci, auroc}]}. */
export function probeCliSummary(run: ProbeRunResult): string {
  return JSON.stringify({
    probes: run.probes.map((p) => ({
      name: p.name,
      features: p.features,
      layer: p.layer,
      val_acc: p.val_acc,
      ood_acc: p.ood_acc,
      ood_acc_ci: p.ood_acc_ci,
      auroc: p.auroc,
    })),
  });
}

// ---------------------------------------------------------------------------------------------------
// JSON

export function probeReportJson(run: ProbeRunResult): string {
  checkResultForWrite(probeReport, run, 'probe-report.json');
  return JSON.stringify(run, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

/** Read probe-report.json (any version this build can upgrade); errors name the file. */
export function loadProbeReportJson(text: string, file = 'probe-report.json'): ProbeRunResult {
  return readResultText(probeReport, text, file);
}

// ---------------------------------------------------------------------------------------------------
// Tables

function f3(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '' : x.toFixed(3);
}

function groupKeys(run: ProbeRunResult): string[] {
  return [...new Set(run.probes.flatMap((p) => Object.keys(p.per_group)))].sort();
}

function groupLabel(run: ProbeRunResult, g: string): string {
  return run.manifest.groupNames?.[g] ?? g;
}

function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** One row per probe. */
export function probeReportCsv(run: ProbeRunResult): string {
  const groups = groupKeys(run);
  const head = [
    'name', 'features', 'layer', 'l2', 'val_acc', 'ood_acc', 'ood_acc_lo', 'ood_acc_hi', 'auroc', 'auroc_lo', 'auroc_hi',
    'f1', 'balanced_acc', ...groups.flatMap((g) => [`group_${groupLabel(run, g)}_acc`, `group_${groupLabel(run, g)}_n`]),
  ];
  const rows = run.probes.map((p) => [
    p.name, p.features, p.layer === null ? '' : String(p.layer), p.l2 === null ? '' : String(p.l2),
    f3(p.val_acc), f3(p.ood_acc), f3(p.ood_acc_ci[0]), f3(p.ood_acc_ci[1]), f3(p.auroc), f3(p.auroc_ci?.[0]), f3(p.auroc_ci?.[1]),
    f3(p.f1), f3(p.balanced_acc),
    ...groups.flatMap((g) => [f3(p.per_group[g]?.acc), p.per_group[g] ? String(p.per_group[g]!.n) : '']),
  ]);
  return [head, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

/** Long format: one row per (probe, layer). */
export function probeLayersCsv(run: ProbeRunResult): string {
  const rows = [['name', 'layer', 'l2', 'val_acc', 'ood_acc', 'ood_acc_lo', 'ood_acc_hi']];
  for (const p of run.probes) {
    for (const l of p.per_layer) {
      rows.push([p.name, String(l.layer), String(l.l2), f3(l.val_acc), f3(l.ood_acc), f3(l.ood_acc_ci?.[0]), f3(l.ood_acc_ci?.[1])]);
    }
  }
  return rows.map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

function pct(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(3);
}

function withCi(x: number | null, c: readonly [number | null, number | null] | undefined): string {
  if (x === null) return '—';
  if (!c || c[0] === null || c[1] === null) return pct(x);
  return `${pct(x)} [${pct(c[0])}, ${pct(c[1])}]`;
}

interface Table {
  head: string[];
  rows: string[][];
}

function summaryTable(run: ProbeRunResult): Table {
  const groups = groupKeys(run);
  return {
    head: ['Probe', 'Features', 'Layer', 'λ', 'Val acc', 'OOD acc [95% CI]', 'AUROC [95% CI]', 'F1', 'Balanced acc', ...groups.map((g) => `Acc (${groupLabel(run, g)})`)],
    rows: run.probes.map((p) => [
      p.name,
      p.features,
      p.layer === null ? '—' : String(p.layer),
      p.l2 === null ? '—' : String(p.l2),
      pct(p.val_acc),
      withCi(p.ood_acc, p.ood_acc_ci),
      withCi(p.auroc, p.auroc_ci),
      pct(p.f1),
      pct(p.balanced_acc),
      ...groups.map((g) => {
        const v = p.per_group[g];
        return v ? `${withCi(v.acc, [v.lo, v.hi])} (n=${v.n})` : '—';
      }),
    ]),
  };
}

function layerTables(run: ProbeRunResult): { name: string; table: Table }[] {
  return run.probes
    .filter((p) => p.per_layer.length > 0)
    .map((p) => ({
      name: p.name,
      table: {
        head: ['Layer', 'λ', 'Val acc', 'OOD acc [95% CI]'],
        rows: p.per_layer.map((l) => [
          String(l.layer) + (l.layer === p.layer ? ' *' : ''),
          String(l.l2),
          pct(l.val_acc),
          withCi(l.ood_acc, l.ood_acc_ci),
        ]),
      },
    }));
}

function manifestLines(run: ProbeRunResult): [string, string][] {
  const m = run.manifest;
  const out: [string, string][] = [
    ['Run', m.runId],
    ['Created', m.createdAt],
  ];
  if (m.tool) out.push(['Tool', `${m.tool.name} ${m.tool.version}`]);
  if (m.model) out.push(['Model', m.model.name + (m.model.sha256 ? ` (sha256 ${m.model.sha256.slice(0, 12)})` : '')]);
  if (m.sae) out.push(['SAE', m.sae.name]);
  if (m.backend) out.push(['Backend', m.backend]);
  out.push(['Seed', String(m.seed)]);
  for (const i of m.inputs) {
    out.push(['Input', `${i.name}${i.n !== undefined ? ` (n=${i.n})` : ''}${i.sha256 ? ` sha256 ${i.sha256.slice(0, 12)}` : ''}`]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Markdown

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function mdTable(t: Table): string {
  const line = (cells: string[]) => `| ${cells.map(mdEscape).join(' | ')} |`;
  return [line(t.head), `|${t.head.map(() => '---').join('|')}|`, ...t.rows.map(line)].join('\n');
}

export interface ReportOptions {
  title?: string;
  /** Markdown: reference the chart as an image file (e.g. 'probe-accuracy.svg'); omitted → no image line. */
  chartFile?: string;
}

export function probeReportMarkdown(run: ProbeRunResult, opts: ReportOptions = {}): string {
  const title = opts.title ?? 'Probe report';
  const parts: string[] = [`# ${title}`, ''];
  parts.push(...manifestLines(run).map(([k, v]) => `- **${k}:** ${v}`), '');
  parts.push('## Probes', '', mdTable(summaryTable(run)), '');
  parts.push(
    'OOD accuracy, AUROC, F1 and per-group accuracy are on the out-of-distribution test set; intervals are seeded',
    `percentile-bootstrap 95% intervals. Layer and λ were chosen on validation accuracy only.`,
    '',
  );
  if (opts.chartFile) parts.push(`![Accuracy per layer, in-distribution vs OOD](${opts.chartFile})`, '');
  for (const { name, table } of layerTables(run)) {
    parts.push(`## ${name}: accuracy per layer`, '', mdTable(table), '', '`*` = layer chosen on validation.', '');
  }
  const params = Object.keys(run.manifest.params).sort();
  if (params.length) {
    parts.push('## Parameters', '', ...params.map((k) => `- \`${k}\`: \`${JSON.stringify(run.manifest.params[k])}\``), '');
  }
  return parts.join('\n');
}

// ---------------------------------------------------------------------------------------------------
// SVG chart

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

function n2(x: number): string {
  // Fixed 2 decimals, no "-0.00".
  const s = x.toFixed(2);
  return s === '-0.00' ? '0.00' : s;
}

export interface ChartOptions {
  width?: number;
  height?: number;
  title?: string;
}

/**
 * Accuracy per layer: for each probe with per-layer points, a solid line (validation = in-distribution)
 * and a dashed line (OOD) on the same colour; the chosen layer's OOD accuracy with its interval as a
 * whisker. Probes over several layers (layer null) appear after the layer axis as labelled points
 * (hollow = validation, filled = OOD with whisker). A dotted line marks chance (0.5).
 */
export function probeAccuracySvg(run: ProbeRunResult, opts: ChartOptions = {}): string {
  const W = opts.width ?? 640;
  const H = opts.height ?? 360;
  const m = { l: 52, r: 16, t: 34, b: 64 };
  const layered = run.probes.filter((p) => p.per_layer.length > 0);
  const layers = [...new Set(layered.flatMap((p) => p.per_layer.map((l) => l.layer)).concat(run.probes.filter((p) => p.layer !== null && p.per_layer.length === 0).map((p) => p.layer!)))].sort((a, b) => a - b);
  const extras = run.probes.filter((p) => p.per_layer.length === 0);
  const slots = layers.length + extras.length;
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const step = slots > 0 ? pw / slots : pw;
  const xLayer = (l: number) => m.l + step * (layers.indexOf(l) + 0.5);
  const xExtra = (k: number) => m.l + step * (layers.length + k + 0.5);
  const y = (v: number) => m.t + ph * (1 - v);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  out.push(`<title>${esc(opts.title ?? 'Probe accuracy per layer: in-distribution vs OOD')}</title>`);
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${n2(W / 2)}" y="18" text-anchor="middle" font-size="13">${esc(opts.title ?? 'Probe accuracy per layer: in-distribution vs OOD')}</text>`);
  // Axes and grid.
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    out.push(`<line x1="${m.l}" y1="${n2(y(v))}" x2="${W - m.r}" y2="${n2(y(v))}" stroke="#e0e0e0" stroke-width="1"/>`);
    out.push(`<text x="${m.l - 6}" y="${n2(y(v) + 4)}" text-anchor="end">${v.toFixed(2)}</text>`);
  }
  out.push(`<line x1="${m.l}" y1="${n2(y(0.5))}" x2="${W - m.r}" y2="${n2(y(0.5))}" stroke="#888888" stroke-dasharray="2 3" stroke-width="1"/>`);
  out.push(`<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${m.t + ph}" stroke="#333333"/>`);
  out.push(`<line x1="${m.l}" y1="${m.t + ph}" x2="${W - m.r}" y2="${m.t + ph}" stroke="#333333"/>`);
  out.push(`<text x="14" y="${n2(m.t + ph / 2)}" text-anchor="middle" transform="rotate(-90 14 ${n2(m.t + ph / 2)})">accuracy</text>`);
  const every = Math.max(1, Math.ceil(layers.length / 16));
  layers.forEach((l, k) => {
    if (k % every !== 0) return;
    out.push(`<text x="${n2(xLayer(l))}" y="${m.t + ph + 14}" text-anchor="middle">${l}</text>`);
  });
  if (layers.length) out.push(`<text x="${n2(m.l + (step * layers.length) / 2)}" y="${m.t + ph + 30}" text-anchor="middle">layer</text>`);
  extras.forEach((p, k) => {
    out.push(`<text x="${n2(xExtra(k))}" y="${m.t + ph + 14}" text-anchor="middle">${esc(p.name)}</text>`);
  });
  const colour = (p: ProbeResult) => PALETTE[run.probes.indexOf(p) % PALETTE.length]!;
  const whisker = (x: number, lo: number | null, hi: number | null, c: string) => {
    if (lo === null || hi === null) return;
    out.push(`<line x1="${n2(x)}" y1="${n2(y(lo))}" x2="${n2(x)}" y2="${n2(y(hi))}" stroke="${c}" stroke-width="1.5"/>`);
    out.push(`<line x1="${n2(x - 4)}" y1="${n2(y(lo))}" x2="${n2(x + 4)}" y2="${n2(y(lo))}" stroke="${c}" stroke-width="1.5"/>`);
    out.push(`<line x1="${n2(x - 4)}" y1="${n2(y(hi))}" x2="${n2(x + 4)}" y2="${n2(y(hi))}" stroke="${c}" stroke-width="1.5"/>`);
  };
  for (const p of layered) {
    const c = colour(p);
    const pts = (key: 'val_acc' | 'ood_acc') =>
      p.per_layer.filter((l) => l[key] !== null).map((l) => `${n2(xLayer(l.layer))},${n2(y(l[key]!))}`);
    const val = pts('val_acc');
    const ood = pts('ood_acc');
    if (val.length) out.push(`<polyline points="${val.join(' ')}" fill="none" stroke="${c}" stroke-width="2"/>`);
    if (ood.length) out.push(`<polyline points="${ood.join(' ')}" fill="none" stroke="${c}" stroke-width="2" stroke-dasharray="6 4"/>`);
    for (const l of p.per_layer) {
      if (l.val_acc !== null) out.push(`<circle cx="${n2(xLayer(l.layer))}" cy="${n2(y(l.val_acc))}" r="2.5" fill="${c}"/>`);
      if (l.ood_acc !== null) out.push(`<rect x="${n2(xLayer(l.layer) - 2.5)}" y="${n2(y(l.ood_acc) - 2.5)}" width="5" height="5" fill="${c}"/>`);
    }
    if (p.layer !== null && layers.includes(p.layer) && p.ood_acc !== null) {
      whisker(xLayer(p.layer), p.ood_acc_ci[0], p.ood_acc_ci[1], c);
      out.push(`<circle cx="${n2(xLayer(p.layer))}" cy="${n2(y(p.ood_acc))}" r="4.5" fill="none" stroke="${c}" stroke-width="1.5"/>`);
    }
  }
  extras.forEach((p, k) => {
    const c = colour(p);
    const x = xExtra(k);
    if (p.ood_acc !== null) {
      whisker(x, p.ood_acc_ci[0], p.ood_acc_ci[1], c);
      out.push(`<circle cx="${n2(x)}" cy="${n2(y(p.ood_acc))}" r="4" fill="${c}"/>`);
    }
    if (p.val_acc !== null) out.push(`<circle cx="${n2(x)}" cy="${n2(y(p.val_acc))}" r="4" fill="#ffffff" stroke="${c}" stroke-width="1.5"/>`);
  });
  // Legend.
  let lx = m.l;
  const ly = H - 14;
  for (const p of run.probes) {
    const c = colour(p);
    out.push(`<rect x="${lx}" y="${ly - 8}" width="10" height="10" fill="${c}"/>`);
    out.push(`<text x="${lx + 14}" y="${ly + 1}">${esc(p.name)}</text>`);
    lx += 24 + 7 * p.name.length;
  }
  out.push(`<line x1="${lx}" y1="${ly - 3}" x2="${lx + 18}" y2="${ly - 3}" stroke="#333333" stroke-width="2"/>`);
  out.push(`<text x="${lx + 22}" y="${ly + 1}">val (in-dist.)</text>`);
  lx += 110;
  out.push(`<line x1="${lx}" y1="${ly - 3}" x2="${lx + 18}" y2="${ly - 3}" stroke="#333333" stroke-width="2" stroke-dasharray="6 4"/>`);
  out.push(`<text x="${lx + 22}" y="${ly + 1}">OOD (95% CI)</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------------
// HTML

function htmlTable(t: Table): string {
  return [
    '<table>',
    `<thead><tr>${t.head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...t.rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`),
    '</tbody>',
    '</table>',
  ].join('\n');
}

export function probeReportHtml(run: ProbeRunResult, opts: ReportOptions = {}): string {
  const title = opts.title ?? 'Probe report';
  const parts = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>${esc(title)}</title>`,
    '<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f4f4f4}dt{font-weight:bold;float:left;clear:left;width:7em}dd{margin-left:8em}pre{background:#f8f8f8;padding:1em;overflow:auto}</style>',
    '</head>',
    '<body>',
    `<h1>${esc(title)}</h1>`,
    '<dl>',
    ...manifestLines(run).map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`),
    '</dl>',
    '<h2>Probes</h2>',
    htmlTable(summaryTable(run)),
    '<p>OOD accuracy, AUROC, F1 and per-group accuracy are on the out-of-distribution test set; intervals are seeded percentile-bootstrap 95% intervals. Layer and λ were chosen on validation accuracy only.</p>',
    '<figure>',
    probeAccuracySvg(run).trimEnd(),
    '<figcaption>Accuracy per layer, in-distribution (validation, solid) vs OOD (dashed); the chosen layer and the feature probes with 95% intervals.</figcaption>',
    '</figure>',
  ];
  for (const { name, table } of layerTables(run)) {
    parts.push(`<h2>${esc(name)}: accuracy per layer</h2>`, htmlTable(table), '<p><code>*</code> = layer chosen on validation.</p>');
  }
  parts.push('<h2>Manifest</h2>', `<pre>${esc(JSON.stringify(run.manifest, null, 2))}</pre>`, '</body>', '</html>');
  return parts.join('\n') + '\n';
}

/** Every report file by name (the caller writes them; see report-files.ts for node). */
export function probeReportFiles(run: ProbeRunResult, opts: ReportOptions = {}): Record<string, string> {
  return {
    'probe-report.json': probeReportJson(run),
    'probe-report.csv': probeReportCsv(run),
    'probe-layers.csv': probeLayersCsv(run),
    'probe-report.md': probeReportMarkdown(run, { chartFile: 'probe-accuracy.svg', ...opts }),
    'probe-report.html': probeReportHtml(run, opts),
    'probe-accuracy.svg': probeAccuracySvg(run),
  };
}
