/**
 * Chromium for the end-to-end tests: Debian's /usr/bin/chromium when present (or CHROMIUM_PATH), else
 * Playwright's own browser (`npx playwright install chromium`). Flags keep it off this machine's closed
 * network. Page errors and console errors are collected so a test can assert there were none.
 */
import { existsSync } from 'node:fs';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH: string | undefined =
  process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

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
