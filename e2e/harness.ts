/**
 * The end-to-end harness. Chromium: Debian's /usr/bin/chromium when present (or CHROMIUM_PATH), else
 * Playwright's own browser (`npx playwright install chromium`). Flags keep it off this machine's closed
 * network. Page errors and console errors are collected so a test can assert there were none.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { WorkbenchCore } from '../main/server/core.js';
import { startServer, type RunningServer } from '../main/server/server.js';
import { Settings } from '../main/settings/settings.js';
import { skipWithout } from '../tests/helpers/requires.js';

export const CHROMIUM_PATH: string | undefined =
  process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

/** Some Chromium to drive: Debian's (or CHROMIUM_PATH) or Playwright's own download. */
function playwrightChromium(): string | undefined {
  try {
    const p = chromium.executablePath();
    return p && existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}
export const HAVE_CHROMIUM = (CHROMIUM_PATH !== undefined && existsSync(CHROMIUM_PATH)) || playwrightChromium() !== undefined;
/** For `describe.skipIf(skipWithoutChromium())`: one line when there is no browser to drive. */
export const skipWithoutChromium = (): boolean =>
  skipWithout(HAVE_CHROMIUM, 'Chromium (/usr/bin/chromium, CHROMIUM_PATH or Playwright\'s browser)', 'apt-get install chromium (Debian; .ci/run does) or npx playwright install chromium');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(
  profileDir: string,
  viewport: { width: number; height: number },
): Promise<{ ctx: BrowserContext; page: Page; consoleErrors: string[] }> {
  const ctx = await chromium.launchPersistentContext(profileDir, {
    ...(CHROMIUM_PATH ? { executablePath: CHROMIUM_PATH } : {}),
    headless: true,
    viewport,
    args: CHROMIUM_ARGS,
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  return { ctx, page, consoleErrors };
}

// ───────────────────────── the workbench under test: renderer build, server, browser ─────────────────────────


export const REPO = fileURLToPath(new URL('../', import.meta.url));

/**
 * The one bound for waiting on state (a job's status, a view's content). Generous on purpose: waits end as soon as
 * the state is reached, so the bound only decides when to give up, and a busy machine must not be a failure.
 */
export const WAIT = { timeout: 240_000 } as const;
/** Per-test bound for the e2e tests (several waits in a row, on a machine other test runs share). */
export const E2E_TEST_MS = 1_200_000;
export const DIST = path.join(REPO, 'renderer', 'dist');

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist') continue;
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Build the renderer into `outDir` (default renderer/dist, rebuilt only when older than its sources). */
export function buildRenderer(outDir = DIST): string {
  if (outDir === DIST) {
    const index = path.join(DIST, 'index.html');
    const built = existsSync(index) ? statSync(index).mtimeMs : 0;
    const sources = Math.max(newestMtime(path.join(REPO, 'renderer')), newestMtime(path.join(REPO, 'common')));
    if (built && built >= sources) return outDir;
  }
  const args = [path.join(REPO, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn', ...(outDir === DIST ? [] : ['--outDir', outDir, '--emptyOutDir'])];
  const r = spawnSync(process.execPath, args, { cwd: REPO, encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) throw new Error(`renderer build failed:\n${r.stdout}\n${r.stderr}`);
  return outDir;
}

export interface Workbench {
  work: string;
  core: WorkbenchCore;
  server: RunningServer;
  ctx: BrowserContext;
  page: Page;
  consoleErrors: string[];
  close(): Promise<void>;
}

/**
 * A fresh settings/projects folder, the first-run (demo) project, optionally seeded with files, the headless
 * server on the built renderer, and Chromium. `ownBuild` builds the renderer into the temp folder so two
 * suites can run side by side without racing on renderer/dist.
 */
export async function openWorkbench(o: {
  prefix: string;
  viewport: { width: number; height: number };
  ownBuild?: boolean;
  seed?: Record<string, string>;
}): Promise<Workbench> {
  const work = mkdtempSync(path.join(os.tmpdir(), o.prefix));
  const staticDir = buildRenderer(o.ownBuild ? path.join(work, 'dist') : DIST);
  const core = new WorkbenchCore({ settings: Settings.open(path.join(work, 'config')), shell: 'server', projectsDir: path.join(work, 'projects'), queueOptions: { testSteps: true } });
  await core.openStartupProject(); // first run: the bundled demo project
  const dir = core.currentProject()!.dir;
  for (const [rel, text] of Object.entries(o.seed ?? {})) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  const server = await startServer({ core, staticDir });
  const { ctx, page, consoleErrors } = await launchChromium(path.join(work, 'chromium-profile'), o.viewport);
  return {
    work, core, server, ctx, page, consoleErrors,
    async close() {
      await ctx.close().catch(() => undefined);
      await server.close();
      await core.close();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
