// Preload (sandboxed, CommonJS, no imports but 'electron'): exposes exactly two functions on
// window.workbench — invoke(method, req) and subscribe(listener) — never ipcRenderer itself.
// The renderer wraps them with createApiClient (common/api.ts). Channel names match main/electron/ipc.ts.
'use strict';

const IPC_CALL = 'workbench:call';
const IPC_EVENT = 'workbench:event';

function createBridge(ipcRenderer) {
  return Object.freeze({
    invoke(method, req) {
      if (typeof method !== 'string') return Promise.reject(new TypeError('method must be a string'));
      return ipcRenderer.invoke(IPC_CALL, method, req === undefined ? {} : req);
    },
    subscribe(listener) {
      if (typeof listener !== 'function') throw new TypeError('listener must be a function');
      const wrapped = (_event, payload) => listener(payload);
      ipcRenderer.on(IPC_EVENT, wrapped);
      return () => ipcRenderer.removeListener(IPC_EVENT, wrapped);
    },
  });
}

if (typeof module !== 'undefined' && module.exports) module.exports = { createBridge, IPC_CALL, IPC_EVENT };

if (typeof process !== 'undefined' && process.type === 'renderer') {
  const { contextBridge, ipcRenderer } = require('electron');
  contextBridge.exposeInMainWorld('workbench', createBridge(ipcRenderer));
}
