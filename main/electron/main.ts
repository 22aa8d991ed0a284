/**
 * Electron main process: lifecycle, the main window, the app:// protocol serving the built
 * renderer with a strict CSP, and the IPC transport of WorkbenchApi. Started by boot.mjs (tsx).
 *
 * Security: contextIsolation + sandbox + no nodeIntegration (window-options.ts); navigation,
 * new windows, webviews and permission requests denied by default (policy.ts); IPC accepted only
 * from our own WebContents' top frame and validated with zod (ipc.ts, WorkbenchCore.dispatch).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, ipcMain, net, Notification, protocol, session, shell } from 'electron';
import { WorkbenchCore } from '../server/core.js';
import { RENDERER_CSP } from '../server/server.js';
import { registerIpc } from './ipc.js';
import { APP_SCHEME, APP_URL, appUrlToRelativePath, isNavigationAllowed, permissionDecision, windowOpenDecision } from './policy.js';
import { makePrintToPdf } from './print-pdf.js';
import { openElectronSettings } from './settings-store.js';
import { PRELOAD_PATH, RENDERER_DIST, WINDOW_SIZE } from './window-options.js';

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);
app.enableSandbox();

const trusted = new Set<number>();
let core: WorkbenchCore | null = null;
let mainWindow: BrowserWindow | null = null;

function installPolicies(): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_wc, permission, callback, details) => callback(permissionDecision(permission, details.requestingUrl)));
  ses.setPermissionCheckHandler((_wc, permission, origin) => permissionDecision(permission, origin));
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [RENDERER_CSP] } });
  });
  protocol.handle(APP_SCHEME, async (request) => {
    const rel = appUrlToRelativePath(request.url);
    const file = rel ? path.join(RENDERER_DIST, rel) : null;
    if (!file || !file.startsWith(RENDERER_DIST + path.sep) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      return new Response('not found', { status: 404 });
    }
    const res = await net.fetch(pathToFileURL(file).href);
    const headers = new Headers(res.headers);
    headers.set('Content-Security-Policy', RENDERER_CSP);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(res.body, { status: res.status, headers });
  });
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isNavigationAllowed(url)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!isNavigationAllowed(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      const d = windowOpenDecision(url);
      if (d.openExternal) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
}

async function createWindow(): Promise<void> {
  // The options are spelled out here (not spread from a helper) so static checkers such as
  // Electronegativity see them; tests/shell/electron.test.ts asserts they equal secureWebPreferences().
  const win = new BrowserWindow({
    ...WINDOW_SIZE,
    webPreferences: {
      preload: PRELOAD_PATH,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      disableBlinkFeatures: 'Auxclick',
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
    },
  });
  mainWindow = win;
  const id = win.webContents.id;
  trusted.add(id);
  ipcHandle?.addTarget(win.webContents);
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    trusted.delete(id);
    if (mainWindow === win) mainWindow = null;
  });
  await win.loadURL(APP_URL);
}

let ipcHandle: ReturnType<typeof registerIpc> | null = null;

async function main(): Promise<void> {
  await app.whenReady();
  installPolicies();
  core = new WorkbenchCore({ settings: openElectronSettings(), shell: 'electron', printToPdf: makePrintToPdf(BrowserWindow) });
  ipcHandle = registerIpc(ipcMain, core, trusted);
  core.on('event', (e) => {
    if (e.type === 'notification' && Notification.isSupported() && !mainWindow?.isFocused()) {
      new Notification({ title: 'Refusal Workbench', body: e.message }).show();
    }
  });
  await core.openStartupProject().catch((err) => console.error('could not open the start-up project:', err));
  await createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) void createWindow();
  });
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
app.on('before-quit', () => {
  ipcHandle?.dispose();
  void core?.close();
});

if (!app.requestSingleInstanceLock()) app.quit();
else {
  app.on('second-instance', () => {
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.focus();
    }
  });
  main().catch((err) => {
    console.error(err);
    app.exit(1);
  });
}
