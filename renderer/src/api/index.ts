/** Pick the transport: the Electron preload bridge when present, else the headless server's WebSocket. */
import { createApiClient, type WorkbenchApi } from '../../../common/api';
import { createIpcTransport, getPreloadBridge } from './ipc-transport';
import { createWsTransport, takeTokenFromLocation, wsUrlFor } from './ws-transport';

export { createIpcTransport, getPreloadBridge } from './ipc-transport';
export { createWsTransport, takeTokenFromLocation, wsUrlFor } from './ws-transport';

export function connectApi(onStatus?: (s: 'connecting' | 'open' | 'closed') => void): WorkbenchApi {
  const bridge = getPreloadBridge();
  if (bridge) {
    onStatus?.('open');
    return createApiClient(createIpcTransport(bridge));
  }
  takeTokenFromLocation();
  return createApiClient(createWsTransport({ url: wsUrlFor(location), onStatus, timeoutMs: 120_000 }));
}
