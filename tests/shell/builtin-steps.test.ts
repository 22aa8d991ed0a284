import { describe, expect, it } from 'vitest';
import { BUILTIN_STEPS, stepModulePath } from '../../main/jobs/steps.js';

// Every registered step resolves to a module exporting the named function, so a job never fails on
// a typo in the registry.
describe('built-in job steps', () => {
  for (const spec of BUILTIN_STEPS) {
    it(`${spec.name} → ${spec.export}`, async () => {
      const mod = (await import(stepModulePath(spec))) as Record<string, unknown>;
      expect(typeof mod[spec.export]).toBe('function');
    });
  }
  it('names the analysis steps the UI starts', () => {
    const names = BUILTIN_STEPS.map((s) => s.name);
    for (const n of ['refusal.discover', 'refusal.categories', 'refusal.probe', 'model.inspect']) expect(names).toContain(n);
  });
});
