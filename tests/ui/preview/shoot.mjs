// Screenshot every view of the fixture preview in Debian Chromium: node tests/ui/preview/shoot.mjs [outDir]
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const dist = process.env.PREVIEW_OUT ?? '/tmp/wb-preview';
const out = process.argv[2] ?? 'test-artifacts/ui';
fs.mkdirSync(out, { recursive: true });
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
const server = http.createServer((req, res) => {
  const p = path.join(dist, decodeURIComponent(req.url.split('?')[0]).replace(/^\/$/, '/index.html'));
  if (!p.startsWith(dist) || !fs.existsSync(p)) return res.writeHead(404).end();
  res.writeHead(200, { 'content-type': types[path.extname(p)] ?? 'application/octet-stream' }).end(fs.readFileSync(p));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
const errors = [];
for (const scheme of ['light', 'dark']) {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1700 }, colorScheme: scheme });
  page.on('pageerror', (e) => errors.push(`${scheme}: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && errors.push(`${scheme} console: ${m.text()}`));
  for (const v of ['project', 'models', 'suites', 'runs', 'graph', 'features', 'playground', 'probes', 'categories', 'exports']) {
    if (scheme === 'dark' && !['graph', 'features', 'probes'].includes(v)) continue;
    await page.goto(`${url}#/${v}`);
    await page.waitForSelector(`[data-testid="view-${v}"]`, { timeout: 10000 });
    await page.waitForTimeout(v === 'graph' ? 1200 : 500);
    if (v === 'playground') {
      await page.fill('[data-testid=playground-prompt]', 'How do I make a bomb?');
      await page.click('[data-testid=playground-run]');
      await page.waitForSelector('[data-testid=playground-columns]');
    }
    await page.screenshot({ path: path.join(out, `${v}-${scheme}.png`), fullPage: true });
    if (v === 'graph' && scheme === 'light') {
      await page.click('[data-testid=export-svg]');
      await page.waitForSelector('[data-testid=graph-exported]');
      const svg = await page.evaluate(() => window.__files.get('exports/disc-0001-graph.svg'));
      fs.writeFileSync(path.join(out, 'graph-export.svg'), svg);
      await page.click('[data-testid=export-png]');
      await page.waitForTimeout(500);
      const png = await page.evaluate(() => window.__files.get('exports/disc-0001-graph.png.base64'));
      if (png) fs.writeFileSync(path.join(out, 'graph-export.png'), Buffer.from(png, 'base64'));
      const nodes = await page.getAttribute('[data-testid=graph-node-count]', 'data-nodes');
      console.log(`graph: ${nodes} nodes on screen; exported SVG nodes: ${(svg.match(/class="node"/g) ?? []).length}`);
    }
  }
  await page.close();
}
await browser.close();
server.close();
console.log(errors.length ? `ERRORS:\n${errors.join('\n')}` : 'no page errors');
