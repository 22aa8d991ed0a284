/**
 * An in-process stand-in for Electron's IPC: ipcMain.handle / ipcRenderer.invoke / webContents.send,
 * with structured cloning across the boundary like the real thing. Lets the contract suite run over
 * the real main/electron/ipc.ts and the real preload bridge (main/electron/preload.cjs) without Electron.
 */
import { createRequire } from 'node:module';
import type { InvokeEventLike, IpcMainLike, EventTarget } from '../../main/electron/ipc.js';
import type { PreloadBridge } from '../../common/api.js';

const require = createRequire(import.meta.url);
export const preload = require('../../main/electron/preload.cjs') as {
  createBridge(ipcRenderer: unknown): PreloadBridge;
  IPC_CALL: string;
  IPC_EVENT: string;
};

type Handler = (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>;

export class IpcShim {
  private readonly handlers = new Map<string, Handler>();
  readonly ipcMain: IpcMainLike = {
    handle: (channel, listener) => {
      if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
      this.handlers.set(channel, listener);
    },
    removeHandler: (channel) => void this.handlers.delete(channel),
  };

  /** A renderer: its webContents id and the URL of the frame making calls. */
  renderer(id: number, frameUrl: string, opts: { subFrame?: boolean } = {}) {
    const listeners = new Map<string, Set<(event: unknown, payload: unknown) => void>>();
    const handlers = this.handlers;
    const ipcRenderer = {
      async invoke(channel: string, ...args: unknown[]) {
        const h = handlers.get(channel);
        if (!h) throw new Error(`No handler registered for '${channel}'`);
        const event: InvokeEventLike = { sender: { id }, senderFrame: { url: frameUrl, parent: opts.subFrame ? {} : null } };
        return structuredClone(await h(event, ...structuredClone(args)));
      },
      on(channel: string, l: (event: unknown, payload: unknown) => void) {
        (listeners.get(channel) ?? listeners.set(channel, new Set()).get(channel)!).add(l);
      },
      removeListener(channel: string, l: (event: unknown, payload: unknown) => void) {
        listeners.get(channel)?.delete(l);
      },
    };
    const target: EventTarget = {
      id,
      isDestroyed: () => false,
      send: (channel, payload) => {
        for (const l of listeners.get(channel) ?? []) l({}, structuredClone(payload));
      },
    };
    return { ipcRenderer, target, bridge: preload.createBridge(ipcRenderer) };
  }
}
