/**
 * npm run build:demo — regenerates assets/demo (model, tokenizer, SAEs, suites, metrics, README) from
 * scratch. Options: --out DIR, --steps N (model steps), --sae-steps N.
 */
import path from 'node:path';
import { buildDemo, DEFAULT_BUILD } from '../workers/demo/build.js';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const outDir = path.resolve(opt('--out') ?? path.join(import.meta.dirname ?? '.', '..', 'assets', 'demo'));
const t0 = Date.now();
const stamp = () => `[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s]`;
await buildDemo({
  ...DEFAULT_BUILD,
  ...(opt('--steps') ? { trainSteps: Number(opt('--steps')) } : {}),
  ...(opt('--sae-steps') ? { saeSteps: Number(opt('--sae-steps')) } : {}),
  outDir,
  log: (m) => console.log(`${stamp()} ${m}`),
});
process.exit(0);
