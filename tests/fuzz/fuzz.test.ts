/**
 * Quick seeded fuzz pass (issue #19): ≥ 1,000 corrupted inputs — truncations, bit flips, huge claims,
 * bombs, hostile templates, odd encodings — across every loader and importer (safetensors, config.json,
 * tokenizer files and chat templates, npz/npy, SAELens cfg + weights, suite importers, pipeline files,
 * project files). Each must give a valid result or a clear error naming the file, within 10 s and 512 MiB
 * of memory growth; cases run in a child process so a hang or a crash is caught and reported.
 * `npm run fuzz` runs a longer pass (FUZZ_SEED, FUZZ_CASES).
 */
import { describe, expect, it } from 'vitest';
import { runFuzz } from './harness.js';

describe('fuzz: untrusted files', () => {
  it('1,200 seeded cases: no crash, no hang, no memory blow-up, every error clear', async () => {
    const r = await runFuzz({ seed: 19, cases: 1200 });
    expect(r.failures).toEqual([]);
    expect(r.cases).toBe(1200);
    // Every target saw both valid results and refusals (the mutations are neither all-fatal nor all-benign).
    for (const [t, c] of Object.entries(r.byTarget)) {
      expect(c.ok + c.error, t).toBe(150);
      expect(c.error, t).toBeGreaterThan(0);
    }
    expect(Object.keys(r.byTarget).sort()).toEqual(['config.json', 'npz', 'pipelines', 'project', 'saelens', 'safetensors', 'suites', 'tokenizer']);
  });

  it('the harness itself catches a hang, a crash and a memory blow-up, and carries on', async () => {
    process.env.RW_FUZZ_SELFTEST = '1';
    try {
      // Thresholds scaled down (a 160 MiB allocation against a 64 MiB limit) so the self-test is light on a shared box.
      const r = await runFuzz({ seed: 1, cases: 4, hangMs: 5000, maxGrowthBytes: 64 * 2 ** 20 });
      const kinds = r.failures.map((f) => `${f.target}:${f.kind}`);
      expect(kinds).toEqual(['hang:hang', 'crash:crash', 'memory:memory']);
      expect(r.byTarget.fine).toEqual({ ok: 1, error: 0 });
      expect(r.cases).toBe(4);
    } finally {
      delete process.env.RW_FUZZ_SELFTEST;
    }
  });
});
