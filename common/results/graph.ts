/**
 * runs/<id>/graph.json of `refusal.discover` (workers/refusal/graph.ts buildGraph): the selected features as
 * nodes, edges upstream → downstream by gradient × delta or clamp-and-measure. Version 1 was written under the
 * bare kind `feature-graph`; version 2 is namespaced like every other file (same fields).
 */
import { z } from 'zod';
import { defineResult } from './versioned.js';

export const FEATURE_GRAPH_KIND = 'refusal-workbench/feature-graph' as const;
export const FEATURE_GRAPH_VERSION = 2 as const;

export const GraphNodeSchema = z.object({
  id: z.string().regex(/^L\d+\/\d+$/),
  layer: z.number().int().nonnegative(),
  index: z.number().int().nonnegative(),
  /** Selection score (mean attribution). */
  attribution: z.number(),
  /** Top (sample, position, token) by attribution. */
  topPositions: z.array(z.object({ sample: z.number().int(), position: z.number().int(), token: z.number().int(), value: z.number() })),
  neuronpediaId: z.string().nullable(),
});
export type GraphNodeFile = z.infer<typeof GraphNodeSchema>;

export const GraphEdgeSchema = z.object({
  source: z.string(),
  target: z.string(),
  weight: z.number(),
  method: z.enum(['gradient', 'clamp']),
});

export const FeatureGraphSchema = z
  .object({
    kind: z.literal(FEATURE_GRAPH_KIND),
    schemaVersion: z.literal(FEATURE_GRAPH_VERSION),
    nodes: z.array(GraphNodeSchema),
    edges: z.array(GraphEdgeSchema),
    params: z.object({ priorLayers: z.number().int(), stopGradient: z.enum(['features', 'none']), clampValue: z.number().nullable(), samples: z.number().int() }),
  })
  .superRefine((g, ctx) => {
    const ids = new Set(g.nodes.map((n) => n.id));
    g.edges.forEach((e, i) => {
      if (!ids.has(e.source)) ctx.addIssue({ code: 'custom', path: ['edges', i, 'source'], message: `no node ${e.source}` });
      if (!ids.has(e.target)) ctx.addIssue({ code: 'custom', path: ['edges', i, 'target'], message: `no node ${e.target}` });
    });
  });
export type FeatureGraphFile = z.infer<typeof FeatureGraphSchema>;

export const featureGraph = defineResult({
  kind: FEATURE_GRAPH_KIND,
  version: FEATURE_GRAPH_VERSION,
  oldest: 1,
  legacyKinds: ['feature-graph'],
  title: 'feature graph',
  schema: FeatureGraphSchema,
  migrations: {
    // v1: kind "feature-graph"; nodes without a Neuronpedia id may omit the field
    1: (o) => ({ ...o, nodes: Array.isArray(o.nodes) ? o.nodes.map((n: Record<string, unknown>) => ({ ...n, neuronpediaId: n.neuronpediaId ?? null })) : o.nodes }),
  },
});
