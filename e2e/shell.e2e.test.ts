/**
 * End-to-end, Debian Chromium (playwright-core) against the headless server: open the demo project,
 * start a job, watch its progress, cancel it, reload. Screenshots go to test-artifacts/e2e/.
 * The harness (e2e/harness.ts) builds renderer/dist first when it is missing or older than its sources.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { E2E_TEST_MS, openWorkbench, REPO, skipWithoutChromium, WAIT, type Workbench } from './harness.js';
import type { WorkbenchCore } from '../main/server/core.js';
import type { RunningServer } from '../main/server/server.js';

const ARTIFACTS = path.join(REPO, 'test-artifacts', 'e2e');

let core: WorkbenchCore;
let server: RunningServer;
let page: Page;
let consoleErrors: string[] = [];

const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

describe.skipIf(skipWithoutChromium())('e2e: headless server in Chromium', () => {
  let wb: Workbench;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    wb = await openWorkbench({ prefix: 'rw-e2e-', viewport: { width: 1280, height: 800 } });
    ({ core, server, page, consoleErrors } = wb);
  }, E2E_TEST_MS);

  afterAll(async () => {
    await wb?.close();
  });

  it('opens the demo project, runs a job with progress, cancels it, survives a reload', async () => {
    // 1. Open the printed URL: the demo project is there, the token leaves the address bar.
    await page.goto(server.urlWithToken);
    await expect.poll(() => page.getByTestId('project-name').textContent(), WAIT).toBe('demo');
    expect(page.url()).not.toContain('token=');
    await expect.poll(() => page.getByTestId('connection').textContent(), WAIT).toBe('websocket');
    await expect.poll(() => page.getByTestId('picker-project-name').textContent(), WAIT).toBe('demo');
    await shot('01-demo-project');

    // The rail works and empty states say what to do.
    await page.getByTestId('nav-runs').click();
    expect(page.url()).toContain('#/runs');

    // 2. Start a job from the drawer: 4000 ticks of 100 ms, far longer than this test needs it to run.
    await page.getByTestId('job-indicator').click();
    await page.getByTestId('step-select').selectOption('demo.count');
    await page.getByTestId('step-params').fill('{"n": 4000, "ms": 100}');
    await page.getByTestId('start-job').click();
    const job = page.getByTestId('job').first();
    await expect.poll(() => job.getAttribute('data-status'), WAIT).toBe('running');

    // 3. Watch progress advance, with an ETA.
    const progress = job.getByTestId('job-progress');
    await expect.poll(async () => Number(await progress.getAttribute('aria-valuenow')), WAIT).toBeGreaterThan(0);
    const first = Number(await progress.getAttribute('aria-valuenow'));
    await expect.poll(async () => Number(await progress.getAttribute('aria-valuenow')), WAIT).toBeGreaterThan(first);
    await expect.poll(() => job.getByTestId('job-eta').textContent(), WAIT).toMatch(/left/);
    await expect.poll(() => page.getByTestId('job-indicator').textContent(), WAIT).toBe('1 job running');
    await shot('02-job-progress');

    // 4. Cancel. The verdict is the job's own state, not the clock: it ends cancelled, short of its last tick,
    // having stopped on its AbortSignal (the queue notes in the log when it had to terminate a worker instead).
    const jobId = (await job.getAttribute('data-job-id'))!;
    await job.getByTestId('job-cancel').click();
    const ended = await core.queue.waitFor(jobId, WAIT.timeout);
    expect(ended.status).toBe('cancelled');
    expect(ended.progress.fraction ?? 0).toBeLessThan(1);
    expect(ended.log.join('\n')).not.toMatch(/did not stop within/);
    await expect.poll(() => job.getAttribute('data-status'), WAIT).toBe('cancelled');
    await shot('03-job-cancelled');

    // 5. Reload: same project, the cancelled job is still listed (cookie keeps the session).
    await page.reload();
    await expect.poll(() => page.getByTestId('project-name').textContent(), WAIT).toBe('demo');
    expect(page.url()).toContain('#/runs');
    await page.getByTestId('job-indicator').click();
    const again = page.locator(`[data-job-id="${jobId}"]`);
    await expect.poll(() => again.getAttribute('data-status'), WAIT).toBe('cancelled');
    await shot('04-after-reload');

    // The run is stored in the project.
    const runs = await core.currentProject()!.listRuns();
    expect(runs.find((r) => r.id === jobId)?.status).toBe('cancelled');

    // No CSP violations or script errors along the way.
    expect(consoleErrors.filter((e) => !/favicon/.test(e))).toEqual([]);
  }, E2E_TEST_MS);
});
