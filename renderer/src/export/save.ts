import type { ViewApi } from '../views/types';
import type { ExportManifest } from './manifest';
import { stableStringify } from './format';
import { pngAddText } from './png';

const MIME: Record<string, string> = {
  svg: 'image/svg+xml',
  png: 'image/png',
  csv: 'text/csv',
  json: 'application/json',
  md: 'text/markdown',
  html: 'text/html',
};

/** Most recent export written — handy for tests and for the Exports view's "last written" line. */
export const lastExport: { name?: string; data?: string | Uint8Array; path?: string } = {};

/**
 * Save an export: into the project's exports/ through the API when available, else a browser download.
 * Returns the path (or file name) written.
 */
export async function saveExport(api: ViewApi, name: string, data: string | Uint8Array): Promise<string> {
  lastExport.name = name;
  lastExport.data = data;
  if (api.writeExport) {
    const p = await api.writeExport(name, data);
    lastExport.path = p;
    return p;
  }
  const ext = name.split('.').pop() ?? '';
  if (typeof document !== 'undefined' && typeof URL !== 'undefined' && typeof URL.createObjectURL === 'function') {
    const blob = new Blob([data as BlobPart], { type: MIME[ext] ?? 'application/octet-stream' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }
  lastExport.path = name;
  return name;
}

/** PNG bytes + manifest as a tEXt chunk. */
export function pngWithManifest(png: Uint8Array, manifest: ExportManifest): Uint8Array {
  return pngAddText(png, 'run-manifest', stableStringify(manifest, 0));
}
