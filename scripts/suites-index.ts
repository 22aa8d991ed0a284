/**
 * Refreshes the generated fields of assets/suites/index.json (items, bytes, sha256) from the files, keeping
 * the curated ones (source, licence, citation, role). `--check` changes nothing and exits 1 on any drift.
 * Usage: npm run suites:index [-- --check]
 */
import fs from 'node:fs';
import path from 'node:path';
import { BuiltinIndexSchema } from '../common/suites/builtin.js';
import { auditBuiltinIndex, BUILTIN_SUITES_DIR } from '../workers/suites/builtin.js';

const check = process.argv.includes('--check');
const file = path.join(BUILTIN_SUITES_DIR, 'index.json');
const idx = BuiltinIndexSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
const audit = auditBuiltinIndex(BUILTIN_SUITES_DIR, idx);
const problems: string[] = audit.unindexed.map((f) => `${f}: not in index.json (add an entry with its source, licence and citation)`);
for (const e of audit.entries) {
  if (!e.actual) problems.push(`${e.file}: missing (entry ${e.name})`);
  else if (JSON.stringify(e.actual) !== JSON.stringify(e.indexed)) {
    if (check) problems.push(`${e.file}: index says ${JSON.stringify(e.indexed)}, the file has ${JSON.stringify(e.actual)}`);
    Object.assign(idx.suites.find((s) => s.name === e.name)!, e.actual);
  }
}
if (problems.length) {
  for (const p of problems) console.error(`error: ${p}`);
  process.exit(1);
}
if (!check) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(idx, null, 2) + '\n');
  fs.renameSync(tmp, file);
}
console.log(`${check ? 'checked' : 'wrote'} ${path.relative(process.cwd(), file)}: ${idx.suites.length} built-in suites`);
