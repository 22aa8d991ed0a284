/**
 * Optional parts a test may need: a system package (Chromium, a Vulkan adapter for WebGPU) or the built demo.
 * `skipWithout(have, what, fix)` returns true (skip) when the part is missing and prints one line saying what is
 * missing and how to get it. With RW_NO_SKIP=1 (set by .ci/run) a missing part fails the file instead, so CI
 * runs every test.
 *
 *   describe.skipIf(skipWithout(adapter !== null, 'a WebGPU adapter', 'apt-get install …'))('…', () => { … });
 */
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './fixtures.js';

export function skipWithout(have: boolean, what: string, fix: string): boolean {
  if (have) return false;
  const line = `skip: needs ${what}, not found here — ${fix}`;
  if (process.env.RW_NO_SKIP === '1') throw new Error(`${line} (RW_NO_SKIP=1: nothing may skip)`);
  process.stderr.write(`${line}\n`);
  return true;
}

export const DEMO_DIR = process.env.RW_DEMO_DIR ?? path.join(repoRoot, 'assets', 'demo');

/** The bundled demo is complete: metrics.json is the builder's last file, so a half-built demo counts as missing. */
export function demoBuilt(dir = DEMO_DIR): boolean {
  return ['model/config.json', 'model/model.safetensors', 'saes', 'suites/demo-adversarial.json', 'metrics.json'].every((f) =>
    fs.existsSync(path.join(dir, f)),
  );
}

/** For `describe.skipIf(skipWithoutDemo())`: the demo ships in the repository, so this skips only mid-rebuild. */
export function skipWithoutDemo(dir = DEMO_DIR): boolean {
  return skipWithout(demoBuilt(dir), `the built demo (${dir})`, 'it ships in the repository; restore it with git checkout assets/demo or rebuild with npm run build:demo');
}
