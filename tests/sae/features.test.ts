import { describe, expect, it } from 'vitest';
import { formatFeatureId, neuronpediaUrl, parseFeatureId } from '../../workers/sae/index.js';

describe('feature ids', () => {
  it('round-trip L{layer}/{index} and link Neuronpedia', () => {
    expect(formatFeatureId({ layer: 12, index: 345 })).toBe('L12/345');
    expect(parseFeatureId('L12/345')).toEqual({ layer: 12, index: 345 });
    expect(() => parseFeatureId('12/345')).toThrow(/L\{layer\}/);
    expect(neuronpediaUrl({ neuronpediaId: 'gemma-2-2b/12-gemmascope-res-65k' }, 7)).toBe('https://neuronpedia.org/gemma-2-2b/12-gemmascope-res-65k/7');
    expect(neuronpediaUrl({ neuronpediaId: null }, 7)).toBeNull();
  });
});
