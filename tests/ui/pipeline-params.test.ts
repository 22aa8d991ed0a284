import { describe, expect, it } from 'vitest';
import { DISCOVERY_PARAMS } from '../../renderer/src/views/runs/pipeline.js';
import { DiscoveryParamsSchema } from '../../workers/refusal/pipeline.js';

// "Every parameter visible": the Runs form must not drift from the discovery step's schema.
describe('the Runs form mirrors the discovery parameters', () => {
  it('shows every DiscoveryParamsSchema key (graph.* nested)', () => {
    const shape = DiscoveryParamsSchema.shape as Record<string, unknown>;
    const graph = Object.keys((DiscoveryParamsSchema.shape.graph.unwrap() as unknown as { shape: Record<string, unknown> }).shape);
    const keys = [...Object.keys(shape).filter((k) => k !== 'graph'), ...graph.map((k) => `graph.${k}`)];
    const form = new Set(DISCOVERY_PARAMS.map((p) => p.key));
    expect(keys.filter((k) => !form.has(k))).toEqual([]);
  });
});
