/** Writes a probe run's report files into a folder (each atomically: temp file then rename). */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { loadProbeReportJson, probeReportFiles, type ProbeRunResult, type ReportOptions } from './report.js';

export async function writeProbeReport(dir: string, run: ProbeRunResult, opts: ReportOptions = {}): Promise<Record<string, string>> {
  await fs.mkdir(dir, { recursive: true });
  const files = probeReportFiles(run, opts);
  const written: Record<string, string> = {};
  for (const [name, text] of Object.entries(files)) {
    const p = path.join(dir, name);
    const tmp = `${p}.tmp-${process.pid}`;
    await fs.writeFile(tmp, text, 'utf8');
    await fs.rename(tmp, p);
    written[name] = p;
  }
  return written;
}

export async function readProbeReport(dir: string): Promise<ProbeRunResult> {
  const file = path.join(dir, 'probe-report.json');
  return loadProbeReportJson(await fs.readFile(file, 'utf8'), file);
}
