/**
 * The Electron IPC transport, main side. One invoke channel carries every API call; one channel
 * carries events to the renderer. Calls are accepted only from trusted senders (policy.ts) and are
 * validated with zod by WorkbenchCore.dispatch. Raw ipcMain is used nowhere else.
 */
import type { ApiEvent, WireResult } from '../../common/api.js';
import type { WorkbenchCore } from '../server/core.js';
import { isTrustedSender, type FrameLike, type SenderLike } from './policy.js';

export const IPC_CALL = 'workbench:call';
export const IPC_EVENT = 'workbench:event';

/** The bits of Electron's IpcMainInvokeEvent we use. */
export interface InvokeEventLike {
  sender: SenderLike;
  senderFrame: FrameLike | null;
}

/** The bits of Electron's ipcMain we use (so tests can pass an in-process shim). */
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

export interface EventTarget {
  id: number;
  send(channel: string, payload: unknown): void;
  isDestroyed(): boolean;
}

export function registerIpc(ipcMain: IpcMainLike, core: WorkbenchCore, trusted: ReadonlySet<number>) {
  ipcMain.handle(IPC_CALL, async (event, method, req): Promise<WireResult> => {
    if (!isTrustedSender(event.sender, event.senderFrame, trusted)) {
      return { ok: false, error: { name: 'Forbidden', code: 'UNTRUSTED_SENDER', message: 'IPC refused: not from the workbench window' } };
    }
    return core.dispatch(method, req);
  });
  const targets = new Set<EventTarget>();
  const onEvent = (e: ApiEvent) => {
    for (const t of targets) {
      if (t.isDestroyed()) targets.delete(t);
      else if (trusted.has(t.id)) t.send(IPC_EVENT, e);
    }
  };
  core.on('event', onEvent);
  return {
    addTarget: (t: EventTarget) => targets.add(t),
    removeTarget: (t: EventTarget) => targets.delete(t),
    dispose: () => {
      ipcMain.removeHandler(IPC_CALL);
      core.off('event', onEvent);
      targets.clear();
    },
  };
}
