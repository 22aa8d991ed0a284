import type { ExportManifest } from './manifest';
import { escapeXml, fmt, stableStringify } from './format';

/** A drawn graph, exactly as on screen: positions in model coordinates, resolved styles. */
export interface SceneNode {
  id: string;
  x: number;
  y: number;
  r: number;
  fill: string;
  label: string;
  stroke?: string;
  highlighted?: boolean;
}

export interface SceneEdge {
  id: string;
  source: string;
  target: string;
  width: number;
  color: string;
}

export interface GraphScene {
  nodes: SceneNode[];
  edges: SceneEdge[];
  /** one faint band per layer, centred at y */
  bands: Array<{ layer: number; y: number; height: number }>;
  title?: string;
  dark?: boolean;
}

function metadata(manifest: ExportManifest): string {
  // CDATA keeps the JSON readable; "]]>" cannot occur in JSON produced from our manifests, but guard anyway.
  return `<metadata id="run-manifest"><![CDATA[${stableStringify(manifest).replace(/]]>/g, ']]]]><![CDATA[>')}]]></metadata>`;
}

/**
 * Graph scene → standalone SVG. Deterministic: nodes and edges are written sorted by id with fixed
 * precision; exactly one `<circle class="node">` per node (labels are separate `<text>`).
 */
export function graphSceneToSvg(scene: GraphScene, manifest: ExportManifest): string {
  const pad = 40;
  const nodes = [...scene.nodes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const edges = [...scene.edges].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const n of nodes) {
    minX = Math.min(minX, n.x - n.r); maxX = Math.max(maxX, n.x + n.r);
    minY = Math.min(minY, n.y - n.r); maxY = Math.max(maxY, n.y + n.r + 14);
  }
  for (const b of scene.bands) { minY = Math.min(minY, b.y - b.height / 2); maxY = Math.max(maxY, b.y + b.height / 2); }
  if (!Number.isFinite(minX)) { minX = 0; maxX = 200; }
  if (!Number.isFinite(minY)) { minY = 0; maxY = 100; }
  const x0 = minX - pad - 30, y0 = minY - pad, w = maxX - minX + 2 * pad + 30, h = maxY - minY + 2 * pad;
  const fg = scene.dark ? '#e6e6e6' : '#1d1d1f';
  const bandFill = scene.dark ? '#ffffff' : '#000000';
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="${fmt(x0)} ${fmt(y0)} ${fmt(w)} ${fmt(h)}" width="${fmt(w)}" height="${fmt(h)}" font-family="system-ui, sans-serif" font-size="10">`);
  out.push(metadata(manifest));
  if (scene.title) out.push(`<title>${escapeXml(scene.title)}</title>`);
  out.push(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="context-stroke"/></marker></defs>`);
  out.push('<g class="bands">');
  for (const b of [...scene.bands].sort((a, c) => a.layer - c.layer)) {
    out.push(`<rect class="band" x="${fmt(x0)}" y="${fmt(b.y - b.height / 2)}" width="${fmt(w)}" height="${fmt(b.height)}" fill="${bandFill}" fill-opacity="${b.layer % 2 ? 0.03 : 0.06}"/>`);
    out.push(`<text class="band-label" x="${fmt(x0 + 6)}" y="${fmt(b.y + 4)}" fill="${fg}" fill-opacity="0.6">L${b.layer}</text>`);
  }
  out.push('</g><g class="edges">');
  for (const e of edges) {
    const s = byId.get(e.source), t = byId.get(e.target);
    if (!s || !t) continue;
    // shorten to the circle rims so the arrow head is visible
    const dx = t.x - s.x, dy = t.y - s.y, len = Math.hypot(dx, dy) || 1;
    const sx = s.x + (dx / len) * s.r, sy = s.y + (dy / len) * s.r;
    const tx = t.x - (dx / len) * t.r, ty = t.y - (dy / len) * t.r;
    out.push(`<line class="edge" data-edge-id="${escapeXml(e.id)}" x1="${fmt(sx)}" y1="${fmt(sy)}" x2="${fmt(tx)}" y2="${fmt(ty)}" stroke="${e.color}" stroke-width="${fmt(e.width)}" stroke-opacity="0.75" marker-end="url(#arrow)"/>`);
  }
  out.push('</g><g class="nodes">');
  for (const n of nodes) {
    const stroke = n.highlighted ? `#f5a623" stroke-width="3` : `${n.stroke ?? fg}" stroke-width="0.75`;
    out.push(`<circle class="node" data-node-id="${escapeXml(n.id)}" cx="${fmt(n.x)}" cy="${fmt(n.y)}" r="${fmt(n.r)}" fill="${n.fill}" stroke="${stroke}"/>`);
  }
  out.push('</g><g class="labels">');
  for (const n of nodes) {
    out.push(`<text class="node-label" x="${fmt(n.x)}" y="${fmt(n.y + n.r + 11)}" text-anchor="middle" fill="${fg}">${escapeXml(n.label)}</text>`);
  }
  out.push('</g></svg>');
  return out.join('\n') + '\n';
}

/**
 * Serialise an on-screen SVG element (e.g. a Recharts surface) into a standalone file with the manifest
 * embedded. Computed colours are not inlined; Recharts writes its colours as attributes already.
 */
export function serializeSvgElement(el: SVGSVGElement, manifest: ExportManifest): string {
  const clone = el.cloneNode(true) as SVGSVGElement;
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  const text = new XMLSerializer().serializeToString(clone);
  return text.replace(/^(<svg[^>]*>)/, `$1${metadata(manifest)}`) + '\n';
}

export interface LineSeries {
  name: string;
  color: string;
  points: Array<{ x: number; y: number; lo?: number; hi?: number }>;
  /** draw only markers with whiskers, no line */
  pointsOnly?: boolean;
  dashed?: boolean;
}

/**
 * A small deterministic line chart (x numeric, y in [0,1]) with interval whiskers — used for the probe
 * figure export so the exported file does not depend on the renderer's layout engine.
 */
export function lineChartSvg(
  opts: { title: string; xLabel: string; yLabel: string; series: LineSeries[]; width?: number; height?: number; yMin?: number; yMax?: number },
  manifest: ExportManifest,
): string {
  const W = opts.width ?? 640, H = opts.height ?? 360;
  const m = { l: 56, r: 170, t: 36, b: 44 };
  const pw = W - m.l - m.r, ph = H - m.t - m.b;
  const xs = opts.series.flatMap((s) => s.points.map((p) => p.x));
  let xMin = xs.length ? Math.min(...xs) : 0, xMax = xs.length ? Math.max(...xs) : 1;
  if (xMin === xMax) { xMin -= 1; xMax += 1; }
  const yMin = opts.yMin ?? 0, yMax = opts.yMax ?? 1;
  const X = (x: number) => m.l + ((x - xMin) / (xMax - xMin)) * pw;
  const Y = (y: number) => m.t + (1 - (y - yMin) / (yMax - yMin)) * ph;
  const o: string[] = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="system-ui, sans-serif" font-size="11">`);
  o.push(metadata(manifest));
  o.push(`<title>${escapeXml(opts.title)}</title>`);
  o.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  o.push(`<text x="${m.l}" y="20" font-size="13" font-weight="600">${escapeXml(opts.title)}</text>`);
  // axes + grid
  o.push('<g class="axes" stroke="#999" stroke-width="1">');
  o.push(`<line x1="${m.l}" y1="${m.t + ph}" x2="${m.l + pw}" y2="${m.t + ph}"/><line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${m.t + ph}"/>`);
  o.push('</g><g class="ticks" fill="#333">');
  for (let i = 0; i <= 5; i++) {
    const v = yMin + ((yMax - yMin) * i) / 5;
    o.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${fmt(Y(v))}" y2="${fmt(Y(v))}" stroke="#ddd"/><text x="${m.l - 6}" y="${fmt(Y(v) + 4)}" text-anchor="end">${fmt(v, 2)}</text>`);
  }
  const xTicks = Array.from(new Set(xs)).sort((a, b) => a - b);
  for (const v of xTicks) o.push(`<text x="${fmt(X(v))}" y="${m.t + ph + 16}" text-anchor="middle">${fmt(v, 2)}</text>`);
  o.push(`<text x="${fmt(m.l + pw / 2)}" y="${H - 8}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`);
  o.push(`<text transform="translate(14 ${fmt(m.t + ph / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(opts.yLabel)}</text>`);
  o.push('</g>');
  opts.series.forEach((s, si) => {
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    o.push(`<g class="series" data-series="${escapeXml(s.name)}">`);
    if (!s.pointsOnly && pts.length > 1)
      o.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''} points="${pts.map((p) => `${fmt(X(p.x))},${fmt(Y(p.y))}`).join(' ')}"/>`);
    for (const p of pts) {
      if (p.lo !== undefined && p.hi !== undefined) {
        const cx = fmt(X(p.x));
        o.push(`<path class="whisker" d="M${cx},${fmt(Y(p.lo))}V${fmt(Y(p.hi))}M${fmt(X(p.x) - 4)},${fmt(Y(p.lo))}h8M${fmt(X(p.x) - 4)},${fmt(Y(p.hi))}h8" stroke="${s.color}" fill="none"/>`);
      }
      o.push(`<circle class="point" cx="${fmt(X(p.x))}" cy="${fmt(Y(p.y))}" r="${s.pointsOnly ? 5 : 3}" fill="${s.color}"/>`);
    }
    o.push('</g>');
    const ly = m.t + 10 + si * 18;
    o.push(`<g class="legend"><rect x="${m.l + pw + 14}" y="${ly - 8}" width="12" height="12" fill="${s.color}"/><text x="${m.l + pw + 32}" y="${ly + 2}">${escapeXml(s.name)}</text></g>`);
  });
  o.push('</svg>');
  return o.join('\n') + '\n';
}
