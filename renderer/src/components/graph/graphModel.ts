import type { GraphEdgeVM, GraphNodeVM, GraphVM, Role } from '../../views/types';
import type { GraphScene, SceneEdge, SceneNode } from '../../export/svg';

/** Pure graph styling, filtering and layout — shared by the Cytoscape view and the SVG exporter. */

export const ROLE_COLORS: Record<Role, string> = { harm: '#e8590c', refusal: '#1c7ed6', unlabelled: '#adb5bd' };
export const EDGE_POS = '#2b8a3e';
export const EDGE_NEG = '#e03131';
export const LAYER_GAP = 90;
export const NODE_GAP = 80;

export interface GraphFilters {
  /** minimum |weight| as a fraction of the largest |weight| (0..1) */
  threshold: number;
  layerMin: number;
  layerMax: number;
  roles: Record<Role, boolean>;
  search: string;
  /** edge method to show ('' = all): gradient, clamp, … */
  edgeKind: string;
}

export function defaultFilters(g: GraphVM | null): GraphFilters {
  const layers = g?.nodes.map((n) => n.layer) ?? [];
  return {
    threshold: 0,
    layerMin: layers.length ? Math.min(...layers) : 0,
    layerMax: layers.length ? Math.max(...layers) : 0,
    roles: { harm: true, refusal: true, unlabelled: true },
    search: '',
    edgeKind: g && new Set(g.edges.map((e) => e.kind)).size > 1 ? (g.edges.some((e) => e.kind === 'gradient') ? 'gradient' : g.edges[0].kind) : '',
  };
}

export function nodeText(n: GraphNodeVM): string {
  return n.label && n.label.trim() ? n.label.trim() : n.id;
}

export function matchesSearch(n: GraphNodeVM, q: string): boolean {
  const s = q.trim().toLowerCase();
  if (!s) return true;
  return n.id.toLowerCase().includes(s) || (n.label ?? '').toLowerCase().includes(s) || `${n.layer}/${n.index}` === s;
}

export function filterGraph(g: GraphVM, f: GraphFilters): { nodes: GraphNodeVM[]; edges: GraphEdgeVM[] } {
  const nodes = g.nodes.filter((n) => n.layer >= f.layerMin && n.layer <= f.layerMax && f.roles[n.role] && matchesSearch(n, f.search));
  const ids = new Set(nodes.map((n) => n.id));
  const pool = f.edgeKind ? g.edges.filter((e) => e.kind === f.edgeKind) : g.edges;
  const maxW = Math.max(0, ...pool.map((e) => Math.abs(e.weight)));
  const cut = f.threshold * maxW;
  const edges = pool.filter((e) => ids.has(e.source) && ids.has(e.target) && Math.abs(e.weight) >= cut);
  return { nodes, edges };
}

export function nodeRadius(attr: number, maxAbs: number): number {
  if (maxAbs <= 0) return 10;
  return 8 + 22 * Math.sqrt(Math.abs(attr) / maxAbs);
}

export function edgeWidth(w: number, maxAbs: number): number {
  if (maxAbs <= 0) return 1;
  return 0.75 + 5.25 * (Math.abs(w) / maxAbs);
}

export function edgeColor(w: number): string {
  return w >= 0 ? EDGE_POS : EDGE_NEG;
}

export function nodeFill(n: GraphNodeVM): string {
  return n.tagColor ?? ROLE_COLORS[n.role];
}

/** y of a layer's centre in model coordinates: early layers at the bottom (larger y). */
export function layerY(layer: number): number {
  return -layer * LAYER_GAP;
}

/**
 * Deterministic layered layout: y by layer; x by a few barycentre sweeps (upward then downward) so edges
 * stay short, ties broken by feature index. Used for exports in tests and as the fallback when no layout
 * engine is available.
 */
export function layeredLayout(nodes: GraphNodeVM[], edges: GraphEdgeVM[]): Map<string, { x: number; y: number }> {
  const byLayer = new Map<number, GraphNodeVM[]>();
  for (const n of nodes) (byLayer.get(n.layer) ?? byLayer.set(n.layer, []).get(n.layer)!).push(n);
  const layers = [...byLayer.keys()].sort((a, b) => a - b);
  const order = new Map<string, number>();
  for (const l of layers) {
    const list = byLayer.get(l)!.sort((a, b) => a.index - b.index);
    list.forEach((n, i) => order.set(n.id, i - (list.length - 1) / 2));
  }
  const nbrs = new Map<string, string[]>();
  for (const e of edges) {
    (nbrs.get(e.source) ?? nbrs.set(e.source, []).get(e.source)!).push(e.target);
    (nbrs.get(e.target) ?? nbrs.set(e.target, []).get(e.target)!).push(e.source);
  }
  const sweep = (seq: number[]) => {
    for (const l of seq) {
      const list = byLayer.get(l)!;
      const bc = new Map<string, number>();
      for (const n of list) {
        const ns = (nbrs.get(n.id) ?? []).filter((m) => order.has(m));
        bc.set(n.id, ns.length ? ns.reduce((s, m) => s + order.get(m)!, 0) / ns.length : order.get(n.id)!);
      }
      list.sort((a, b) => bc.get(a.id)! - bc.get(b.id)! || a.index - b.index);
      list.forEach((n, i) => order.set(n.id, i - (list.length - 1) / 2));
    }
  };
  for (let it = 0; it < 3; it++) {
    sweep(layers);
    sweep([...layers].reverse());
  }
  const pos = new Map<string, { x: number; y: number }>();
  for (const n of nodes) pos.set(n.id, { x: order.get(n.id)! * NODE_GAP, y: layerY(n.layer) });
  return pos;
}

/** Build the drawable scene for the visible graph at the given positions. */
export function buildScene(
  visible: { nodes: GraphNodeVM[]; edges: GraphEdgeVM[] },
  positions: Map<string, { x: number; y: number }>,
  opts: { highlight?: Set<string>; title?: string; dark?: boolean; maxAttr?: number; maxWeight?: number } = {},
): GraphScene {
  const maxA = opts.maxAttr ?? Math.max(0, ...visible.nodes.map((n) => Math.abs(n.attribution)));
  const maxW = opts.maxWeight ?? Math.max(0, ...visible.edges.map((e) => Math.abs(e.weight)));
  const nodes: SceneNode[] = visible.nodes.map((n) => {
    const p = positions.get(n.id) ?? { x: 0, y: layerY(n.layer) };
    return { id: n.id, x: p.x, y: p.y, r: nodeRadius(n.attribution, maxA), fill: nodeFill(n), label: nodeText(n), highlighted: opts.highlight?.has(n.id) };
  });
  const edges: SceneEdge[] = visible.edges.map((e) => ({ id: e.id, source: e.source, target: e.target, width: edgeWidth(e.weight, maxW), color: edgeColor(e.weight) }));
  const layers = Array.from(new Set(visible.nodes.map((n) => n.layer))).sort((a, b) => a - b);
  const all = layers.length ? Array.from({ length: layers[layers.length - 1] - layers[0] + 1 }, (_, i) => layers[0] + i) : [];
  return { nodes, edges, bands: all.map((l) => ({ layer: l, y: layerY(l), height: LAYER_GAP })), title: opts.title, dark: opts.dark };
}
