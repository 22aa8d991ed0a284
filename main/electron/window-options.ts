/** The main window's web preferences: the whole security posture in one place, unit-tested. */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PRELOAD_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'preload.cjs');

export function secureWebPreferences(preload = PRELOAD_PATH) {
  return {
    preload,
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
  } as const;
}

export const WINDOW_SIZE = {
  width: 1400,
  height: 900,
  minWidth: 900,
  minHeight: 600,
  show: false,
  title: 'Refusal Workbench',
  backgroundColor: '#111418',
} as const;

export function mainWindowOptions(preload = PRELOAD_PATH) {
  return { ...WINDOW_SIZE, webPreferences: secureWebPreferences(preload) };
}

export const RENDERER_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../renderer/dist');
export function rendererFile(rel: string): string {
  return path.join(RENDERER_DIST, rel);
}
