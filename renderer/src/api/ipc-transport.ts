/** Electron transport: the preload bridge on `window.workbench` (main/electron/preload.cjs). */
import { ApiError, type ApiTransport, type PreloadBridge, type WireResult } from '../../../common/api';

export function getPreloadBridge(w: unknown = globalThis): PreloadBridge | null {
  const b = (w as { workbench?: PreloadBridge }).workbench;
  return b && typeof b.invoke === 'function' && typeof b.subscribe === 'function' ? b : null;
}

export function createIpcTransport(bridge: PreloadBridge): ApiTransport {
  return {
    kind: 'ipc',
    async invoke(method, req) {
      const r: WireResult = await bridge.invoke(method, req);
      if (r.ok) return r.result;
      throw new ApiError(r.error);
    },
    subscribe: (listener) => bridge.subscribe(listener),
  };
}
