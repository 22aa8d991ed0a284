/**
 * Reports to PDF in the desktop app: the HTML is loaded into a hidden, sandboxed window with
 * JavaScript off and no preload, printed with printToPDF, and the window is closed.
 */
import type { BrowserWindow as BrowserWindowType } from 'electron';

export interface PdfWindowFactory {
  new (opts: Electron.BrowserWindowConstructorOptions): BrowserWindowType;
}

export function makePrintToPdf(BrowserWindow: PdfWindowFactory): (html: string) => Promise<Uint8Array> {
  return async (html) => {
    // Options inline (not a shared constant) so static checkers such as Electronegativity see them.
    const win = new BrowserWindow({
      show: false,
      webPreferences: { sandbox: true, contextIsolation: true, nodeIntegration: false, javascript: false, webSecurity: true },
    });
    try {
      await win.loadURL(`data:text/html;charset=utf-8,${encodeURIComponent(html)}`);
      const pdf = await win.webContents.printToPDF({ printBackground: true, pageSize: 'A4' });
      return new Uint8Array(pdf);
    } finally {
      win.destroy();
    }
  };
}
