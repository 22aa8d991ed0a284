/** Neuronpedia ids exactly as Neuronpedia writes them: a table of real ids (SAELens pretrained_saes.yaml), and the whole registry. */
import { describe, expect, it } from 'vitest';
import { neuronpediaSourceId, neuronpediaSourceSet, parseNeuronpediaId, widthLabel, widthToDSae, type NeuronpediaSourceParts } from '../../common/neuronpedia.js';
import { saeRegistry } from '../../workers/sae/releases.js';

// real ids, copied from SAELens 6.18 pretrained_saes.yaml `neuronpedia:` fields
const TABLE: Array<[string, NeuronpediaSourceParts]> = [
  ['gemma-2-2b/12-gemmascope-res-65k', { model: 'gemma-2-2b', layer: 12, release: 'gemmascope', site: 'res', width: 65536 }],
  ['gemma-2-2b/12-gemmascope-res-16k', { model: 'gemma-2-2b', layer: 12, release: 'gemmascope', site: 'res', width: 16384 }],
  ['gemma-2-2b/12-gemmascope-res-32k', { model: 'gemma-2-2b', layer: 12, release: 'gemmascope', site: 'res', width: 32768 }],
  ['gemma-2-2b/12-gemmascope-res-262k', { model: 'gemma-2-2b', layer: 12, release: 'gemmascope', site: 'res', width: 262144 }],
  ['gemma-2-2b/12-gemmascope-res-524k', { model: 'gemma-2-2b', layer: 12, release: 'gemmascope', site: 'res', width: 524288 }],
  ['gemma-2-2b/5-gemmascope-res-16k__l0-143', { model: 'gemma-2-2b', layer: 5, release: 'gemmascope', site: 'res', width: 16384, l0: 143 }],
  ['gemma-2-2b/5-gemmascope-res-1m__l0-114', { model: 'gemma-2-2b', layer: 5, release: 'gemmascope', site: 'res', width: 1048576, l0: 114 }],
  ['gemma-2-9b/0-gemmascope-res-131k__l0-30', { model: 'gemma-2-9b', layer: 0, release: 'gemmascope', site: 'res', width: 131072, l0: 30 }],
  ['gemma-2-9b-it/9-gemmascope-res-131k', { model: 'gemma-2-9b-it', layer: 9, release: 'gemmascope', site: 'res', width: 131072 }],
  ['gemma-2-2b/0-gemmascope-att-65k', { model: 'gemma-2-2b', layer: 0, release: 'gemmascope', site: 'att', width: 65536 }],
  ['gemma-2-2b/0-gemmascope-mlp-16k', { model: 'gemma-2-2b', layer: 0, release: 'gemmascope', site: 'mlp', width: 16384 }],
  ['llama3.1-8b/0-llamascope-res-32k', { model: 'llama3.1-8b', layer: 0, release: 'llamascope', site: 'res', width: 4096 * 8 }],
  ['llama3.1-8b/0-llamascope-res-131k', { model: 'llama3.1-8b', layer: 0, release: 'llamascope', site: 'res', width: 4096 * 32 }],
  ['llama3.1-8b/0-llamascope-att-131k', { model: 'llama3.1-8b', layer: 0, release: 'llamascope', site: 'att', width: 4096 * 32 }],
  ['llama3.1-8b/0-llamascope-mlp-131k', { model: 'llama3.1-8b', layer: 0, release: 'llamascope', site: 'mlp', width: 4096 * 32 }],
];

describe('Neuronpedia ids', () => {
  it.each(TABLE)('%s', (id, parts) => {
    expect(neuronpediaSourceId(parts)).toBe(id);
    const p = parseNeuronpediaId(id)!;
    expect(p).toMatchObject({ model: parts.model, layer: parts.layer, release: parts.release, site: parts.site, l0: parts.l0 ?? null, index: null });
    expect(widthToDSae(p.width)).toBe(parts.width);
    expect(neuronpediaSourceId({ ...parts, width: p.width })).toBe(id);
    expect(p.sourceSet).toBe(id.split('/')[1]!.replace(/^\d+-/, ''));
  });

  it('widths: 16k/32k/65k/131k/262k/524k/1m (never 128k for Llama Scope 32x)', () => {
    expect([16384, 32768, 65536, 131072, 262144, 524288, 1048576, 4096].map(widthLabel)).toEqual(['16k', '32k', '65k', '131k', '262k', '524k', '1m', '4k']);
  });

  it('feature ids and the source set', () => {
    expect(parseNeuronpediaId('gemma-2-2b/12-gemmascope-res-65k/123')!.index).toBe(123);
    expect(neuronpediaSourceSet('gemma-2-2b/12-gemmascope-res-65k')).toBe('gemmascope-res-65k');
    expect(parseNeuronpediaId('gemma-2b/12-res-jb')).toBeNull(); // older scheme: valid id, no site/width
  });

  it('every registry id re-formats from its parts and agrees with the entry (layer, width, canonical ↔ bare)', () => {
    let n = 0;
    for (const r of saeRegistry().releases) {
      for (const e of r.saes) {
        if (!e.neuronpedia) continue;
        const p = parseNeuronpediaId(e.neuronpedia);
        if (!p) continue; // e.g. llama3-8b-it/25-res-jh
        n++;
        expect(p.layer, e.neuronpedia).toBe(e.layer);
        expect(p.width, e.neuronpedia).toBe(e.width);
        expect(p.model).toBe(r.neuronpediaModel);
        // canonical releases: bare ids; other L0s carry __l0-{k}. (The yaml lists a few canonical picks,
        // e.g. 2B width_1m, under both names, and both are Neuronpedia sources.)
        if (r.format === 'gemmascope' && r.id.endsWith('-canonical')) expect(p.l0, e.neuronpedia).toBeNull();
        if (r.format === 'gemmascope' && !e.canonical) expect(p.l0, e.neuronpedia).toBe(e.l0);
        expect(neuronpediaSourceId({ model: p.model, layer: p.layer, release: p.release, site: p.site, width: e.dSae!, l0: p.l0 })).toBe(e.neuronpedia);
      }
    }
    expect(n).toBeGreaterThan(400);
  });
});
