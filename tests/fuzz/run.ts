/** `npm run fuzz`: a longer seeded pass. FUZZ_SEED (default: time-based, printed), FUZZ_CASES (default 10000), FUZZ_PARALLEL. */
import { runFuzz } from './harness.js';

const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const cases = Number(process.env.FUZZ_CASES ?? 10_000);
const parallel = Number(process.env.FUZZ_PARALLEL ?? 2);
console.log(`fuzz: seed ${seed}, ${cases} cases, ${parallel} processes (rerun with FUZZ_SEED=${seed})`);
const t0 = Date.now();
const r = await runFuzz({ seed, cases, parallel });
console.log(`${r.cases} cases in ${((Date.now() - t0) / 1000).toFixed(1)} s; slowest case ${r.maxMs.toFixed(0)} ms (${r.slowest}); largest memory growth ${(r.maxGrowth / 2 ** 20).toFixed(0)} MiB`);
for (const [t, c] of Object.entries(r.byTarget)) console.log(`  ${t.padEnd(12)} ok ${c.ok}, clear errors ${c.error}`);
for (const f of r.failures) console.log(`FAIL #${f.index} ${f.target} ${f.kind}: ${f.message}`);
process.exit(r.failures.length ? 1 : 0);
