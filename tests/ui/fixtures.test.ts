/**
 * The UI tests feed only schema-valid results: every result file of the fixture project parses with the
 * reader its run's step declares (common/steps outputs → common/results), and every canned job result with
 * its step's result schema.
 */
import { describe, expect, it } from 'vitest';
import { readResultText, resultDef, runManifest } from '../../common/results/index';
import { STEPS, isStepName } from '../../common/steps/index';
import { projectFiles } from './fixtures/data';
import { JOB_RESULTS } from './fixtures/fakeApi';

describe('UI fixtures are schema-valid', () => {
  it('every declared output of every fixture run parses with its versioned reader, at the current version', () => {
    const files = projectFiles();
    let checked = 0;
    for (const [p, text] of Object.entries(files)) {
      const m = /^runs\/([^/]+)\/manifest\.json$/.exec(p);
      if (!m) continue;
      const man = readResultText(runManifest, text, p);
      expect(isStepName(man.step), man.step).toBe(true);
      const step = STEPS[man.step as keyof typeof STEPS];
      for (const out of man.outputs) {
        const decl = step.outputs.find((o) => new RegExp(`^${o.file.replace(/[.]/g, '\\.').replace(/\{\w+\}/g, '\\d+')}$`).test(out));
        if (!decl?.schemaVersion) continue; // job.log, generations.json: no schema
        const def = resultDef(decl.kind)!;
        const f = `runs/${m[1]}/${out}`;
        expect(files[f], f).toBeDefined();
        const raw = JSON.parse(files[f]);
        expect(raw.schemaVersion, f).toBe(def.version);
        readResultText(def, files[f], f);
        checked++;
      }
    }
    expect(checked).toBe(5);
  });
  it('every canned job result matches its step result schema', () => {
    for (const [step, result] of Object.entries(JOB_RESULTS)) {
      expect(isStepName(step)).toBe(true);
      const r = STEPS[step as keyof typeof STEPS].result.safeParse(result);
      expect(r.success, `${step}: ${r.error?.issues[0]?.path.join('.')} ${r.error?.issues[0]?.message}`).toBe(true);
    }
  });
});
