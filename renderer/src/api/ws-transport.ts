/**
 * WebSocket transport (headless server): `{id, method, req}` → `{id, ok, result|error}`; events arrive
 * as `{event}`. Reconnects with back-off; calls made while disconnected wait for the connection.
 * A browser authenticates with the server's HttpOnly cookie (set when the printed `?token=` URL is opened;
 * the server then redirects to the URL without it) — the API never accepts a query token. Node clients
 * (tests, scripts) pass `token`, sent as `Authorization: Bearer` (the `ws` package takes headers).
 */
import { ApiError, type ApiEvent, type ApiMethod, type ApiTransport, type WireResult } from '../../../common/api';

export const TOKEN_KEY = 'refusal-workbench.token';

/**
 * Drop a `?token=` left in the address bar (the server normally redirects it away) so it is not kept in
 * history; clears any token an older version stored. The cookie authenticates the page.
 */
export function takeTokenFromLocation(loc: Location = location, storage: Storage | null = safeSession()): null {
  storage?.removeItem(TOKEN_KEY);
  const url = new URL(loc.href);
  const t = url.searchParams.get('token');
  if (t) {
    url.searchParams.delete('token');
    try {
      history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    } catch {
      /* ignore */
    }
  }
  return null;
}

function safeSession(): Storage | null {
  try {
    return sessionStorage;
  } catch {
    return null;
  }
}

export interface WsTransportOptions {
  url: string;
  /** Node clients only: sent as `Authorization: Bearer` (browsers use the cookie). */
  token?: string | null;
  /** WebSocket constructor (Node tests pass `ws`). */
  WebSocketImpl?: typeof WebSocket;
  /** Extra ws options (Node `ws` only), e.g. headers. */
  onStatus?: (s: 'connecting' | 'open' | 'closed') => void;
  timeoutMs?: number;
}

export function wsUrlFor(loc: Location = location): string {
  const proto = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${loc.host}/api/ws`;
}

export function createWsTransport(opts: WsTransportOptions): ApiTransport & { ready(): Promise<void> } {
  const WS = opts.WebSocketImpl ?? WebSocket;
  const listeners = new Set<(e: ApiEvent) => void>();
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void; timer: ReturnType<typeof setTimeout> | null }>();
  let nextId = 1;
  let socket: WebSocket | null = null;
  let open: Promise<void> | null = null;
  let closed = false;
  let backoff = 250;
  const url = opts.url;
  // The third argument is the Node `ws` options object; a browser WebSocket is never given one.
  const wsOptions = opts.token ? [undefined, { headers: { Authorization: `Bearer ${opts.token}` } }] : [];

  function connect(): Promise<void> {
    if (open) return open;
    opts.onStatus?.('connecting');
    open = new Promise<void>((resolve, reject) => {
      const ws = new (WS as unknown as new (url: string, ...rest: unknown[]) => WebSocket)(url, ...wsOptions);
      socket = ws;
      let opened = false;
      ws.onopen = () => {
        opened = true;
        backoff = 250;
        opts.onStatus?.('open');
        resolve();
      };
      ws.onmessage = (ev: MessageEvent) => {
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(typeof ev.data === 'string' ? ev.data : String(ev.data));
        } catch {
          return;
        }
        if (msg.event) {
          for (const l of listeners) l(msg.event as ApiEvent);
          return;
        }
        const p = pending.get(msg.id as number);
        if (!p) return;
        pending.delete(msg.id as number);
        if (p.timer) clearTimeout(p.timer);
        const r = msg as unknown as WireResult;
        if (r.ok) p.resolve(r.result);
        else p.reject(new ApiError(r.error));
      };
      ws.onclose = () => {
        socket = null;
        open = null;
        opts.onStatus?.('closed');
        for (const [id, p] of pending) {
          pending.delete(id);
          if (p.timer) clearTimeout(p.timer);
          p.reject(new ApiError({ name: 'Disconnected', code: 'DISCONNECTED', message: 'connection to the workbench server lost' }));
        }
        if (!opened) reject(new ApiError({ name: 'Disconnected', code: 'DISCONNECTED', message: `cannot connect to ${opts.url} (server down or token refused)` }));
        if (!closed) {
          setTimeout(() => {
            if (!closed && listeners.size) void connect().catch(() => undefined);
          }, backoff);
          backoff = Math.min(backoff * 2, 5000);
        }
      };
      ws.onerror = () => {
        /* onclose follows */
      };
    });
    return open;
  }

  return {
    kind: 'websocket',
    ready: () => connect(),
    async invoke(method: ApiMethod, req: unknown) {
      await connect();
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = opts.timeoutMs
          ? setTimeout(() => {
              pending.delete(id);
              reject(new ApiError({ name: 'Timeout', code: 'TIMEOUT', message: `${method}: no answer within ${opts.timeoutMs} ms` }));
            }, opts.timeoutMs)
          : null;
        pending.set(id, { resolve, reject, timer });
        socket!.send(JSON.stringify({ id, method, req }));
      });
    },
    subscribe(listener) {
      listeners.add(listener);
      void connect().catch(() => undefined);
      return () => listeners.delete(listener);
    },
    close() {
      closed = true;
      socket?.close();
    },
  };
}
