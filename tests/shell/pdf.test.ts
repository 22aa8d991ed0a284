import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkbenchCore } from '../../main/server/core.js';
import { Settings } from '../../main/settings/settings.js';
import { makePrintToPdf, type PdfWindowFactory } from '../../main/electron/print-pdf.js';
import { tempDir } from './helpers.js';

const t = tempDir('rw-pdf-');
afterAll(() => t.cleanup());

function core(printToPdf?: (html: string) => Promise<Uint8Array>) {
  return new WorkbenchCore({ settings: Settings.open(path.join(t.dir, 'cfg')), shell: 'test', projectsDir: t.dir, demoAssetsDir: path.join(t.dir, 'none'), printToPdf });
}

describe('PDF reports', () => {
  it('the desktop shell prints HTML into exports/; the headless server refuses with a reason', async () => {
    const seen: string[] = [];
    const desktop = core(async (html) => {
      seen.push(html);
      return Uint8Array.from(Buffer.from('%PDF-1.7 fake'));
    });
    await desktop.dispatch('projects.create', { dir: path.join(t.dir, 'p1'), name: 'p1' });
    const r = await desktop.dispatch('files.writePdf', { path: 'exports/report.pdf', html: '<h1>Probes</h1>' });
    expect(r).toEqual({ ok: true, result: { path: 'exports/report.pdf' } });
    expect(fs.readFileSync(path.join(t.dir, 'p1', 'exports', 'report.pdf'), 'utf8')).toBe('%PDF-1.7 fake');
    expect(seen).toEqual(['<h1>Probes</h1>']);

    const server = core();
    await server.dispatch('projects.create', { dir: path.join(t.dir, 'p2'), name: 'p2' });
    const refused = await server.dispatch('files.writePdf', { path: 'exports/report.pdf', html: '<p>x</p>' });
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.error.code).toBe('UNSUPPORTED');
    expect(!refused.ok && refused.error.message).toMatch(/desktop app/);
  });

  it('prints in a hidden, sandboxed window without JavaScript, and always closes it', async () => {
    const log: string[] = [];
    class FakeWindow {
      constructor(readonly opts: Electron.BrowserWindowConstructorOptions) {
        const w = opts.webPreferences;
        log.push(`new show=${opts.show} js=${w?.javascript} sandbox=${w?.sandbox} isolation=${w?.contextIsolation} node=${w?.nodeIntegration}`);
      }
      async loadURL(url: string) {
        log.push(`load ${decodeURIComponent(url)}`);
      }
      webContents = { printToPDF: async () => Buffer.from('%PDF') };
      destroy() {
        log.push('destroy');
      }
    }
    const pdf = await makePrintToPdf(FakeWindow as unknown as PdfWindowFactory)('<b>r</b>');
    expect(Buffer.from(pdf).toString()).toBe('%PDF');
    expect(log).toEqual(['new show=false js=false sandbox=true isolation=true node=false', 'load data:text/html;charset=utf-8,<b>r</b>', 'destroy']);
  });
});
