/** The circuit-tracer / Neuronpedia graph export round-trips and carries the fields Neuronpedia reads. */
import { describe, expect, it } from 'vitest';
import { SAE_FEATURE_TYPE, fromNeuronpediaGraph, toNeuronpediaGraph, type FeatureGraph } from '../../workers/refusal/graph.js';

const G: FeatureGraph = {
  kind: 'refusal-workbench/feature-graph',
  schemaVersion: 2,
  nodes: [
    { id: 'L2/5', layer: 2, index: 5, attribution: 0.5, topPositions: [{ sample: 0, position: 3, token: 9, value: 0.2 }], neuronpediaId: 'gemma-2-2b/2-gemmascope-res-65k/5' },
    { id: 'L4/7', layer: 4, index: 7, attribution: -0.25, topPositions: [{ sample: 1, position: 6, token: 4, value: 1.5 }], neuronpediaId: 'gemma-2-2b/4-gemmascope-res-65k/7' },
  ],
  edges: [
    { source: 'L2/5', target: 'L4/7', weight: 0.8, method: 'gradient' },
    { source: 'L2/5', target: 'L4/7', weight: 0.1, method: 'clamp' },
  ],
  params: { priorLayers: 2, stopGradient: 'features', clampValue: null, samples: 2 },
};

describe('graph export (circuit-tracer graph JSON)', () => {
  const out = toNeuronpediaGraph(G, { slug: 'run-1', scan: 'gemma-2-2b', prompt: 'p', promptTokens: ['<bos>', 'p'], labels: { 'L2/5': 'harmful request' } }) as {
    metadata: Record<string, unknown>;
    nodes: Array<Record<string, unknown>>;
    links: Array<Record<string, unknown>>;
  };

  it('scan is the model id, nodes are residual SAE features, clerp is the user label, the source set is named', () => {
    expect(out.metadata.scan).toBe('gemma-2-2b');
    expect(out.metadata.transcoder_list).toEqual([]);
    expect(out.metadata.feature_details).toEqual({ neuronpedia_source_set: 'gemmascope-res-65k' });
    expect(out.nodes.map((n) => n.feature_type)).toEqual([SAE_FEATURE_TYPE, SAE_FEATURE_TYPE]);
    expect(out.nodes.map((n) => n.feature_type)).not.toContain('cross layer transcoder');
    expect(out.nodes.map((n) => n.clerp)).toEqual(['harmful request', '']);
    expect(out.nodes[0]).toMatchObject({ node_id: '2_5_3', jsNodeId: '2_5-0', feature: 5, layer: '2', ctx_idx: 3 });
    // Neuronpedia graph-schema.json required node fields
    for (const n of out.nodes) for (const k of ['node_id', 'feature', 'layer', 'ctx_idx', 'feature_type', 'jsNodeId', 'clerp']) expect(n).toHaveProperty(k);
    expect(out.links).toEqual([{ source: '2_5_3', target: '4_7_6', weight: 0.8 }]);
  });

  it('reads back: nodes, Neuronpedia ids, labels and gradient edges', () => {
    const back = fromNeuronpediaGraph(JSON.parse(JSON.stringify(out)));
    expect(back.scan).toBe('gemma-2-2b');
    expect(back.sourceSet).toBe('gemmascope-res-65k');
    expect(back.labels).toEqual({ 'L2/5': 'harmful request' });
    expect(back.graph.nodes.map((n) => [n.id, n.layer, n.index, n.attribution, n.neuronpediaId])).toEqual(G.nodes.map((n) => [n.id, n.layer, n.index, n.attribution, n.neuronpediaId]));
    expect(back.graph.edges).toEqual([G.edges[0]]);
    expect(back.promptTokens).toEqual(['<bos>', 'p']);
  });

  it('refuses what circuit-tracer would not load (missing transcoder_list, node fields)', () => {
    const bad = JSON.parse(JSON.stringify(out));
    delete bad.metadata.transcoder_list;
    expect(() => fromNeuronpediaGraph(bad)).toThrow(/transcoder_list/);
    const bad2 = JSON.parse(JSON.stringify(out));
    delete bad2.nodes[0].jsNodeId;
    expect(() => fromNeuronpediaGraph(bad2)).toThrow(/nodes\.0\.jsNodeId/);
  });
});
