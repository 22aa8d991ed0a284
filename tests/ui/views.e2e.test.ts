/**
 * Views end-to-end in Debian Chromium through the real headless server (WebSocket transport, real adapter):
 * the demo project seeded with stored discovery / probe / categories results → the graph shows nodes and
 * edges → open a feature → label it → reload, the label is still there → export the graph SVG (written in
 * the project, parses, one element per node) and the probe report (Markdown and HTML) → a screenshot of
 * every view in test-artifacts/ui/. When the discovery step lands, the seeding is replaced by a real run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { E2E_TEST_MS, openWorkbench, REPO, skipWithoutChromium, WAIT, type Workbench } from '../../e2e/harness.js';
import { demoBuilt, skipWithout } from '../helpers/requires.js';
import type { WorkbenchCore } from '../../main/server/core.js';
import type { RunningServer } from '../../main/server/server.js';
import { GRAPH, FIRST, projectFiles } from './fixtures/data';

const ARTIFACTS = path.join(REPO, 'test-artifacts', 'ui');
/** Discovery on the demo: about 10 s alone on 2 cores; the bound is for a machine running other test suites too. */
const DISCOVERY_BOUND_MS = 900_000;

let core: WorkbenchCore;
let server: RunningServer;
let page: Page;
let consoleErrors: string[] = [];
const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
/** Two animation frames: the page has painted what its state says (for screenshots; no verdict hangs on it). */
const painted = () => page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));

describe.skipIf(skipWithoutChromium())('e2e: views over the headless server in Chromium', () => {
  let wb: Workbench;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // own build folder, so this can run beside the shell e2e (which builds renderer/dist)
    wb = await openWorkbench({ prefix: 'rw-ui-e2e-', viewport: { width: 1440, height: 900 }, ownBuild: true, seed: projectFiles() });
    ({ core, server, page, consoleErrors } = wb);
  }, E2E_TEST_MS);

  afterAll(async () => {
    await wb?.close();
  });

  it('graph → feature → label → reload → exports, with a screenshot of every view', async () => {
    const dir = core.currentProject()!.dir;
    await page.goto(server.urlWithToken);
    await expect.poll(() => page.getByTestId('project-name').textContent(), WAIT).not.toBe('no project');

    // the graph shows nodes and edges
    await page.getByTestId('nav-graph').click();
    const count = page.getByTestId('graph-node-count');
    await expect.poll(() => count.getAttribute('data-nodes'), WAIT).toBe(String(GRAPH.nodes.length));
    expect(Number(await count.getAttribute('data-edges'))).toBe(GRAPH.edges.length);
    await painted();
    await shot('graph');

    // open a feature from the graph, label it
    await page.getByTestId(`graph-node-${FIRST}`).click();
    await expect.poll(() => page.getByTestId('feature-id').textContent(), WAIT).toBe(FIRST);
    await page.getByTestId('feature-label-input').fill('weapon requests');
    await page.getByTestId('feature-save').click();
    await page.getByTestId('feature-saved').waitFor();
    await shot('feature');

    // reload: the label is still there (stored in features.json)
    await page.reload();
    await page.getByTestId('nav-features').click();
    await page.getByTestId(`feature-item-${FIRST}`).click();
    await expect.poll(() => page.getByTestId('feature-label-input').inputValue(), WAIT).toBe('weapon requests');
    expect(JSON.parse(readFileSync(path.join(dir, 'features.json'), 'utf8')).features[FIRST].label).toBe('weapon requests');

    // export the graph as SVG: written into the project, parses, one element per node; the label is on it
    await page.getByTestId('nav-graph').click();
    await expect.poll(() => count.getAttribute('data-nodes'), WAIT).toBe(String(GRAPH.nodes.length));
    await page.getByTestId('export-svg').click();
    await page.getByTestId('graph-exported').waitFor();
    const svg = readFileSync(path.join(dir, 'exports', 'disc-0001-graph.svg'), 'utf8');
    const { JSDOM } = (await import('jsdom' as string)) as { JSDOM: new (s: string, o: object) => { window: { document: Document } } };
    const doc = new JSDOM(svg, { contentType: 'image/svg+xml' }).window.document;
    expect(doc.getElementsByTagName('parsererror')).toHaveLength(0);
    expect(doc.querySelectorAll('[data-node-id]')).toHaveLength(GRAPH.nodes.length);
    expect(svg).toContain('>weapon requests</text>');

    // the probe report, Markdown and HTML
    await page.getByTestId('nav-probes').click();
    await page.getByTestId('export-probe-report').click();
    await page.getByTestId('export-probe-report-html').click();
    await expect.poll(() => existsSync(path.join(dir, 'exports', 'probe-0001-probes-report.html')), WAIT).toBe(true);
    expect(readFileSync(path.join(dir, 'exports', 'probe-0001-probes-report.md'), 'utf8')).toContain('# Probe report');
    await shot('probes');

    // a built-in suite, one click from the Prompt suites view, through the real server: the copy records its hash
    await page.getByTestId('nav-suites').click();
    await page.getByTestId('builtin-advbench').waitFor(WAIT);
    await page.getByTestId('builtin-import-advbench').click();
    await expect.poll(() => page.getByTestId('suite-builtin').textContent(), WAIT).toMatch(/^built-in advbench · [0-9a-f]{12}$/);
    const copy = JSON.parse(readFileSync(path.join(dir, 'suites', 'builtin-advbench.json'), 'utf8'));
    expect(copy.builtin.name).toBe('advbench');
    expect((await page.getByTestId('suite-builtin').textContent())!.endsWith(copy.builtin.sha256.slice(0, 12))).toBe(true);
    expect(copy.items).toHaveLength(520);
    // the project's list now holds the copy, and the Built-in list says so
    await expect.poll(() => page.getByTestId('builtin-in-project-advbench').textContent(), WAIT).toBe('in project');
    await painted();
    await shot('suites-builtin');

    for (const v of ['project', 'models', 'suites', 'runs', 'playground', 'categories', 'exports']) {
      const nav = page.getByTestId(`nav-${v}`);
      if ((await nav.count()) === 0) continue;
      await nav.click();
      await painted();
      await shot(v);
    }
    expect(consoleErrors.filter((e) => !/favicon/.test(e))).toEqual([]);
  }, E2E_TEST_MS);

  it.skipIf(skipWithout(demoBuilt(), 'the built demo (assets/demo)', 'it ships in the repository; restore it with git checkout assets/demo'))('runs discovery on the demo from the Runs view; the graph shows the run', async () => {
    const dir = core.currentProject()!.dir;
    await page.goto(server.urlWithToken);
    await page.getByTestId('nav-runs').click();
    await expect.poll(() => page.getByTestId('param-maxNewTokens').inputValue(), WAIT).not.toBe('');
    const before = new Set(core.queue.list().map((j) => j.id));
    await page.getByTestId('run-start').click();
    // Wait on the job itself (its status in the queue, which the page's progress mirrors), with one generous bound:
    // discovery on the demo takes seconds on a quiet machine and minutes on a loaded one; neither is a verdict.
    await expect.poll(() => core.queue.list().find((j) => !before.has(j.id) && j.step === 'refusal.discover')?.id, WAIT).toBeTruthy();
    const jobId = core.queue.list().find((j) => !before.has(j.id) && j.step === 'refusal.discover')!.id;
    const prog = page.getByTestId('run-progress');
    await expect.poll(() => prog.getAttribute('data-status'), WAIT).toMatch(/queued|running|done/);
    await shot('runs-progress');
    const ended = await core.queue.waitFor(jobId, DISCOVERY_BOUND_MS);
    if (ended.status !== 'succeeded') {
      await shot('runs-failed');
      throw new Error(`discovery ${ended.status} on the demo: ${ended.error ?? ''}\n${ended.log.slice(-20).join('\n')}`);
    }
    await expect.poll(() => prog.getAttribute('data-status'), WAIT).toBe('succeeded');
    const pipeline = JSON.parse(readFileSync(path.join(dir, 'ui-pipeline.json'), 'utf8'));
    expect(pipeline.kind).toBe('refusal-workbench/pipeline');
    await shot('runs-done');
    await page.getByTestId('run-open-graph').click();
    const count = page.getByTestId('graph-node-count');
    const runId = await page.getByTestId('graph-run').textContent();
    const id = runId!.replace(/^run /, '').trim();
    expect(id).not.toBe('disc-0001');
    const stored = JSON.parse(readFileSync(path.join(dir, 'runs', id, 'graph.json'), 'utf8'));
    await expect.poll(() => count.getAttribute('data-nodes'), WAIT).toBe(String(stored.nodes.length));
    expect(stored.nodes.length).toBeGreaterThan(0);
    await painted();
    await shot('graph-demo-run');
    expect(consoleErrors.filter((e) => !/favicon/.test(e))).toEqual([]);
  }, E2E_TEST_MS);
});
