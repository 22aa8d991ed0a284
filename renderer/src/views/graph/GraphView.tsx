import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import cytoscape, { type Core } from 'cytoscape';
import dagre from 'cytoscape-dagre';
import type { CategoriesVM, FeatureAnnotationVM, GraphNodeVM, GraphVM, Role, WorkbenchApi } from '../types';
import { toViewApi } from '../api';
import { useAsync, useAction } from '../../components/useAsync';
import { EmptyState } from '../../components/EmptyState';
import { ProgressBar } from '../../components/ProgressBar';
import { ErrorLine, ViewHeader } from '../../components/Section';
import { useEscape, useSlashFocus } from '../../components/keyboard';
import { addToFeatureSet, navigate, setFeatureSet, useSelection } from '../../components/nav';
import {
  ROLE_COLORS,
  buildScene,
  defaultFilters,
  edgeColor,
  edgeWidth,
  filterGraph,
  LAYER_GAP,
  layerY,
  layeredLayout,
  nodeFill,
  nodeRadius,
  nodeText,
  type GraphFilters,
} from '../../components/graph/graphModel';
import { graphSceneToSvg } from '../../export/svg';
import { base64ToBytes, svgToPng } from '../../export/png';
import { pngWithManifest, saveExport } from '../../export/save';
import { fmt } from '../../export/format';

let dagreRegistered = false;
function ensureDagre() {
  if (dagreRegistered) return;
  try {
    cytoscape.use(dagre);
  } catch {
    /* already registered */
  }
  dagreRegistered = true;
}

/** jsdom (tests) has no canvas: run Cytoscape headless there. */
function canRender(): boolean {
  if (typeof navigator !== 'undefined' && /jsdom/i.test(navigator.userAgent)) return false;
  return typeof document !== 'undefined' && !!document.createElement('canvas').getContext;
}

function prefersDark(): boolean {
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches;
}

const TAG_PALETTE = ['#7048e8', '#0b7285', '#c2255c', '#5c940d', '#e67700', '#364fc7'];
function tagColor(tag: string): string {
  let h = 0;
  for (let i = 0; i < tag.length; i++) h = (h * 31 + tag.charCodeAt(i)) >>> 0;
  return TAG_PALETTE[h % TAG_PALETTE.length];
}

/**
 * Labels and roles onto the graph: the user's label; role from the user's tags (`harm`, `refusal`), else
 * from the categories run (common set → refusal, category-specific → harm), else the stored role; any other
 * first tag gives the node a tag colour.
 */
export function withAnnotations(g: GraphVM, ann: Record<string, FeatureAnnotationVM> | undefined, cat?: CategoriesVM | null): GraphVM {
  const common = new Set(cat?.common ?? []);
  const specific = new Set(Object.values(cat?.specific ?? {}).flat());
  return {
    ...g,
    nodes: g.nodes.map((n) => {
      const a = ann?.[n.id];
      const tags = a?.tags ?? [];
      let role: Role = n.role;
      if (tags.includes('refusal')) role = 'refusal';
      else if (tags.includes('harm')) role = 'harm';
      else if (role === 'unlabelled' && common.has(n.id)) role = 'refusal';
      else if (role === 'unlabelled' && specific.has(n.id)) role = 'harm';
      const other = tags.find((t) => t !== 'harm' && t !== 'refusal' && t !== 'neuronpedia');
      return { ...n, role, label: a?.label ? a.label : n.label, tagColor: other ? tagColor(other) : n.tagColor };
    }),
  };
}

export function GraphView({ api: rawApi }: { api: WorkbenchApi }) {
  const api = useMemo(() => toViewApi(rawApi), [rawApi]);
  const sel = useSelection();
  const graphQ = useAsync(() => api.getGraph?.(sel.runId) ?? Promise.resolve(null), [api, sel.runId]);
  const annQ = useAsync<Record<string, FeatureAnnotationVM>>(() => api.getAnnotations?.() ?? Promise.resolve({}), [api]);
  const catQ = useAsync<CategoriesVM | null>(() => api.getCategories?.().catch(() => null) ?? Promise.resolve(null), [api]);
  const graph = useMemo(() => (graphQ.data ? withAnnotations(graphQ.data, annQ.data, catQ.data) : null), [graphQ.data, annQ.data, catQ.data]);

  const [filters, setFilters] = useState<GraphFilters>(() => defaultFilters(null));
  useEffect(() => {
    if (graph) setFilters((f) => ({ ...defaultFilters(graph), threshold: f.threshold, roles: f.roles, search: f.search }));
    // only when a new graph arrives
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [graphQ.data]);
  const [highlightCommon, setHighlightCommon] = useState(false);
  const [focused, setFocused] = useState<string | null>(null);
  const [exported, setExported] = useState<string>();
  const searchRef = useRef<HTMLInputElement>(null);
  useSlashFocus(searchRef);
  useEscape(useCallback(() => setFocused(null), []));

  const visible = useMemo(() => (graph ? filterGraph(graph, filters) : { nodes: [], edges: [] }), [graph, filters]);
  const common = useMemo(() => new Set(highlightCommon ? catQ.data?.common ?? [] : []), [highlightCommon, catQ.data]);
  const maxAttr = useMemo(() => Math.max(0, ...(graph?.nodes ?? []).map((n) => Math.abs(n.attribution))), [graph]);
  const maxWeight = useMemo(
    () => Math.max(0, ...(graph?.edges ?? []).filter((e) => !filters.edgeKind || e.kind === filters.edgeKind).map((e) => Math.abs(e.weight))),
    [graph, filters.edgeKind],
  );
  const edgeKinds = useMemo(() => Array.from(new Set((graph?.edges ?? []).map((e) => e.kind))).sort(), [graph]);
  const layers = useMemo(() => (graph ? Array.from(new Set(graph.nodes.map((n) => n.layer))).sort((a, b) => a - b) : []), [graph]);

  // ───────── Cytoscape ─────────
  const containerRef = useRef<HTMLDivElement>(null);
  const cyRef = useRef<Core | null>(null);
  const positionsRef = useRef<Map<string, { x: number; y: number }>>(new Map());
  const movedRef = useRef(false);
  const ready = !!graph && graph.nodes.length > 0;
  const [cyGen, setCyGen] = useState(0);
  const [bands, setBands] = useState<Array<{ layer: number; top: number; height: number }>>([]);
  const bandLayersRef = useRef<number[]>([]);
  const updateBands = useCallback(() => {
    const cy = cyRef.current;
    if (!cy || !canRender()) return;
    const z = cy.zoom(), pan = cy.pan();
    setBands(bandLayersRef.current.map((l) => ({ layer: l, top: (layerY(l) - LAYER_GAP / 2) * z + pan.y, height: LAYER_GAP * z })));
  }, []);

  // Create Cytoscape once the canvas container is in the DOM (after the graph has loaded).
  useEffect(() => {
    if (!ready) return;
    ensureDagre();
    const render = canRender() && !!containerRef.current;
    const dark = prefersDark();
    const cy = cytoscape({
      container: render ? containerRef.current : undefined,
      headless: !render,
      styleEnabled: true,
      minZoom: 0.1,
      maxZoom: 4,
      style: [
        {
          selector: 'node',
          style: {
            width: 'data(d)',
            height: 'data(d)',
            'background-color': 'data(fill)',
            label: 'data(text)',
            'font-size': 10,
            color: dark ? '#e6e6e6' : '#1d1d1f',
            'text-valign': 'bottom',
            'text-margin-y': 3,
            'text-background-color': dark ? '#191d23' : '#ffffff',
            'text-background-opacity': 0.75,
            'text-background-padding': '1px',
            'border-width': 0.75,
            'border-color': dark ? '#e6e6e6' : '#1d1d1f',
          },
        },
        { selector: 'node.common', style: { 'border-width': 3, 'border-color': '#f5a623' } },
        { selector: 'node.focused', style: { 'overlay-opacity': 0.15, 'overlay-color': '#888' } },
        {
          selector: 'edge',
          style: {
            width: 'data(w)',
            'line-color': 'data(color)',
            'target-arrow-color': 'data(color)',
            'target-arrow-shape': 'triangle',
            'curve-style': 'bezier',
            opacity: 0.75,
          },
        },
      ],
    });
    cyRef.current = cy;
    setCyGen((g) => g + 1);
    // hover shows the details; click opens the feature page
    cy.on('mouseover', 'node', (e) => setFocused(e.target.id()));
    cy.on('tap', 'node', (e) => navigate('features', { f: e.target.id() }));
    cy.on('tap', (e) => {
      if (e.target === cy) setFocused(null);
    });
    cy.on('viewport', () => {
      if ((cy.scratch('_settled') as boolean | undefined) === true) movedRef.current = true;
      updateBands();
    });
    return () => {
      cy.destroy();
      cyRef.current = null;
    };
  }, [ready, updateBands]);

  useEffect(() => {
    const cy = cyRef.current;
    if (!cy) return;
    cy.scratch('_settled', false);
    movedRef.current = false;
    cy.elements().remove();
    cy.add([
      ...visible.nodes.map((n) => ({
        group: 'nodes' as const,
        data: { id: n.id, layer: n.layer, d: 2 * nodeRadius(n.attribution, maxAttr), fill: nodeFill(n), text: nodeText(n) },
        classes: common.has(n.id) ? 'common' : '',
      })),
      ...visible.edges.map((e) => ({
        group: 'edges' as const,
        data: { id: e.id, source: e.source, target: e.target, w: edgeWidth(e.weight, maxWeight), color: edgeColor(e.weight) },
      })),
    ]);
    // x from dagre (edges short), y pinned to the layer (early layers at the bottom)
    const fallback = layeredLayout(visible.nodes, visible.edges);
    let ok = false;
    if (canRender()) {
      try {
        cy.layout({ name: 'dagre', rankDir: 'BT', nodeSep: 30, rankSep: 60, animate: false } as unknown as cytoscape.LayoutOptions).run();
        ok = true;
      } catch {
        ok = false;
      }
    }
    cy.nodes().positions((n) => {
      const layer = n.data('layer') as number;
      const x = ok ? n.position('x') : fallback.get(n.id())?.x ?? 0;
      return { x, y: layerY(layer) };
    });
    const pos = new Map<string, { x: number; y: number }>();
    cy.nodes().forEach((n) => {
      pos.set(n.id(), { x: n.position('x'), y: n.position('y') });
    });
    positionsRef.current = pos;
    const ls = visible.nodes.map((n) => n.layer);
    bandLayersRef.current = ls.length ? Array.from({ length: Math.max(...ls) - Math.min(...ls) + 1 }, (_, i) => Math.min(...ls) + i) : [];
    if (canRender()) cy.fit(undefined, 40);
    updateBands();
    cy.scratch('_settled', true);
  }, [visible, maxAttr, maxWeight, common, cyGen, updateBands]);

  useEffect(() => {
    const cy = cyRef.current;
    if (!cy) return;
    cy.nodes().removeClass('focused');
    if (focused) cy.getElementById(focused).addClass('focused');
  }, [focused, visible, cyGen]);

  // ───────── export ─────────
  const act = useAction();
  const currentScene = useCallback(() => {
    const cy = cyRef.current;
    let nodes = visible.nodes;
    if (cy && canRender() && movedRef.current) {
      const ext = cy.extent();
      const inView = new Set(
        cy
          .nodes()
          .filter((n) => {
            const b = n.boundingBox({});
            return b.x2 >= ext.x1 && b.x1 <= ext.x2 && b.y2 >= ext.y1 && b.y1 <= ext.y2;
          })
          .map((n) => n.id()),
      );
      nodes = nodes.filter((n) => inView.has(n.id));
    }
    const ids = new Set(nodes.map((n) => n.id));
    const edges = visible.edges.filter((e) => ids.has(e.source) && ids.has(e.target));
    return buildScene({ nodes, edges }, positionsRef.current, {
      highlight: common,
      title: `Causal feature graph — ${graph?.runId ?? ''}`,
      maxAttr,
      maxWeight,
    });
  }, [visible, common, graph, maxAttr, maxWeight]);

  const exportSvg = () =>
    act.run(async () => {
      if (!graph) return;
      const svg = graphSceneToSvg(currentScene(), graph.manifest);
      setExported(await saveExport(api, `${graph.runId}-graph.svg`, svg));
    });
  const exportPng = () =>
    act.run(async () => {
      if (!graph) return;
      const cy = cyRef.current;
      let bytes: Uint8Array;
      if (cy && canRender()) bytes = base64ToBytes(cy.png({ output: 'base64', full: false, scale: 2, bg: prefersDark() ? '#1e1e1e' : '#ffffff' }));
      else bytes = await svgToPng(graphSceneToSvg(currentScene(), graph.manifest));
      setExported(await saveExport(api, `${graph.runId}-graph.png`, pngWithManifest(bytes, graph.manifest)));
    });

  // ───────── render ─────────
  if (graphQ.loading && !graph)
    return (
      <div className="wb-view" data-testid="view-graph">
        <ViewHeader title="Causal graph" />
        {graphQ.slow ? <ProgressBar label="Loading graph" /> : null}
      </div>
    );
  if (!graph || graph.nodes.length === 0)
    return (
      <div className="wb-view" data-testid="view-graph">
        <ViewHeader title="Causal graph" />
        <ErrorLine error={graphQ.error} />
        <EmptyState
          title="No graph yet — run discovery first"
          hint="The graph shows the refusal features a discovery run selected, by layer, with edges from upstream to downstream features."
          testId="graph-empty"
        >
          <button onClick={() => navigate('runs')}>Go to Runs</button>
        </EmptyState>
      </div>
    );

  const focusedNode: GraphNodeVM | undefined = focused ? graph.nodes.find((n) => n.id === focused) : undefined;
  const ranked = [...visible.nodes].sort((a, b) => Math.abs(b.attribution) - Math.abs(a.attribution) || (a.id < b.id ? -1 : 1));

  return (
    <div className="wb-view wb-graph" data-testid="view-graph">
      <ViewHeader title="Causal graph">
        <span className="wb-muted" data-testid="graph-run">
          run {graph.runId}
        </span>
        <button data-testid="export-png" onClick={exportPng} disabled={act.busy}>
          Export PNG
        </button>
        <button data-testid="export-svg" onClick={exportSvg} disabled={act.busy}>
          Export SVG
        </button>
      </ViewHeader>
      <div className="wb-toolbar" role="toolbar" aria-label="Graph filters">
        <label>
          Search{' '}
          <input
            ref={searchRef}
            type="search"
            data-testid="graph-search"
            placeholder="label or L15/301  ( / )"
            value={filters.search}
            onChange={(e) => setFilters({ ...filters, search: e.target.value })}
          />
        </label>
        <label title="Hide edges weaker than this fraction of the strongest edge">
          Edge threshold{' '}
          <input
            type="range"
            min={0}
            max={1}
            step={0.01}
            data-testid="graph-threshold"
            value={filters.threshold}
            onChange={(e) => setFilters({ ...filters, threshold: Number(e.target.value) })}
          />{' '}
          <output>{fmt(filters.threshold, 2)}</output>
        </label>
        <label>
          Layers{' '}
          <input
            type="number"
            data-testid="graph-layer-min"
            min={layers[0]}
            max={filters.layerMax}
            value={filters.layerMin}
            onChange={(e) => setFilters({ ...filters, layerMin: Number(e.target.value) })}
          />
          –
          <input
            type="number"
            data-testid="graph-layer-max"
            min={filters.layerMin}
            max={layers[layers.length - 1]}
            value={filters.layerMax}
            onChange={(e) => setFilters({ ...filters, layerMax: Number(e.target.value) })}
          />
        </label>
        <fieldset className="wb-inline">
          <legend>Role</legend>
          {(['harm', 'refusal', 'unlabelled'] as Role[]).map((r) => (
            <label key={r}>
              <input
                type="checkbox"
                data-testid={`graph-role-${r}`}
                checked={filters.roles[r]}
                onChange={(e) => setFilters({ ...filters, roles: { ...filters.roles, [r]: e.target.checked } })}
              />
              <span className="wb-swatch" style={{ background: ROLE_COLORS[r] }} /> {r}
            </label>
          ))}
        </fieldset>
        {edgeKinds.length > 1 && (
          <label title="Edges by gradient × delta, or by clamp-and-measure">
            Edges{' '}
            <select data-testid="graph-edge-kind" value={filters.edgeKind} onChange={(e) => setFilters({ ...filters, edgeKind: e.target.value })}>
              <option value="">all</option>
              {edgeKinds.map((k) => (
                <option key={k}>{k}</option>
              ))}
            </select>
          </label>
        )}
        <label title={catQ.data ? 'Features shared by every harm category (from the categories run)' : 'Run the categories analysis to get a common set'}>
          <input
            type="checkbox"
            data-testid="graph-common-toggle"
            disabled={!catQ.data || catQ.data.common.length === 0}
            checked={highlightCommon}
            onChange={(e) => setHighlightCommon(e.target.checked)}
          />{' '}
          highlight common set{catQ.data ? ` (${catQ.data.common.length})` : ''}
        </label>
        <span className="wb-muted" data-testid="graph-node-count" data-nodes={visible.nodes.length} data-edges={visible.edges.length}>
          {visible.nodes.length} nodes · {visible.edges.length} edges
        </span>
      </div>
      <ErrorLine error={act.error} />
      {act.slow && <ProgressBar label="Exporting" />}
      {exported && (
        <p className="wb-muted" data-testid="graph-exported">
          Saved {exported}
        </p>
      )}
      <div className="wb-graph-body">
        <div className="wb-graph-stage">
          <div className="wb-graph-bands" aria-hidden="true">
            {bands.map((b) => (
              <div key={b.layer} className={`wb-graph-band${b.layer % 2 ? ' odd' : ''}`} style={{ top: b.top, height: b.height }}>
                <span>L{b.layer}</span>
              </div>
            ))}
          </div>
          <div className="wb-graph-canvas" ref={containerRef} data-testid="graph-canvas" aria-label="Causal feature graph" />
          {focusedNode && (
            <div className="wb-node-overlay">
              <NodePanel node={focusedNode} annotation={annQ.data?.[focusedNode.id]} onClose={() => setFocused(null)} inCommon={catQ.data?.common.includes(focusedNode.id)} />
            </div>
          )}
        </div>
        <aside className="wb-side" data-testid="graph-side-panel">
          <p className="wb-muted">Hover a node for details; click opens its feature page.</p>
          <h3>Features by |attribution|</h3>
          <ol className="wb-node-list">
            {ranked.map((n) => (
              <li key={n.id} className={n.id === focused ? 'active' : ''}>
                <button className="wb-link" data-testid={`graph-node-${n.id}`} onMouseEnter={() => setFocused(n.id)} onFocus={() => setFocused(n.id)} onClick={() => navigate('features', { f: n.id })}>
                  <span className="wb-swatch" style={{ background: nodeFill(n) }} /> {nodeText(n)}
                </button>{' '}
                <span className="wb-num">{fmt(n.attribution, 3)}</span>
              </li>
            ))}
          </ol>
        </aside>
      </div>
    </div>
  );
}

function NodePanel({ node, annotation, onClose, inCommon }: { node: GraphNodeVM; annotation?: FeatureAnnotationVM; onClose: () => void; inCommon?: boolean }) {
  return (
    <div data-testid="graph-node-panel">
      <header className="wb-card-header">
        <h3>
          {node.id} {node.label ? <span className="wb-muted">· {node.label}</span> : null}
        </h3>
        <button aria-label="Close (Esc)" onClick={onClose}>
          ×
        </button>
      </header>
      <dl className="wb-dl">
        <dt>role</dt>
        <dd>
          <span className="wb-swatch" style={{ background: nodeFill(node) }} /> {node.role}
          {inCommon ? ' · common set' : ''}
        </dd>
        <dt>attribution</dt>
        <dd className="wb-num">{fmt(node.attribution, 4)}</dd>
        {node.cosine !== undefined && (
          <>
            <dt>cos(refusal dir)</dt>
            <dd className="wb-num">{fmt(node.cosine, 3)}</dd>
          </>
        )}
        {node.topTokens?.length ? (
          <>
            <dt>top tokens</dt>
            <dd>{node.topTokens.map((t) => JSON.stringify(t)).join(' ')}</dd>
          </>
        ) : null}
        {annotation?.tags?.length ? (
          <>
            <dt>tags</dt>
            <dd>{annotation.tags.join(', ')}</dd>
          </>
        ) : null}
      </dl>
      <div className="wb-actions">
        <button data-testid="graph-open-feature" onClick={() => navigate('features', { f: node.id })}>
          Open feature page
        </button>
        <button
          onClick={() => {
            setFeatureSet([node.id]);
            navigate('playground', { f: node.id });
          }}
        >
          Clamp in playground
        </button>
        <button onClick={() => addToFeatureSet(node.id)}>Add to feature set</button>
      </div>
    </div>
  );
}

export default GraphView;
