/**
 * Settings in the desktop app go through electron-store, on the very same file the headless server
 * and the CLI use through conf (same folder, same name), so a recent project or a judge endpoint
 * configured in one shell shows up in the other.
 */
import * as path from 'node:path';
import ElectronStore from 'electron-store';
import { DEFAULT_SETTINGS, SETTINGS_CONFIG_NAME, openConfStore, settingsDir, type KeyValueStore, Settings } from '../settings/settings.js';

export function openElectronSettings(): Settings {
  const cwd = settingsDir() ?? path.dirname(openConfStore().path);
  const store = new ElectronStore<Record<string, unknown>>({
    name: SETTINGS_CONFIG_NAME,
    cwd,
    defaults: { ...DEFAULT_SETTINGS } as unknown as Record<string, unknown>,
  });
  return new Settings(store as unknown as KeyValueStore);
}
