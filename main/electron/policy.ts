/**
 * Security policies of the desktop shell as pure functions (unit-tested without Electron):
 * what the window may navigate to, which senders may call the API, which permissions are granted
 * (none), which links open in the system browser.
 */

/** Our renderer is served from this origin by the app:// protocol handler (main.ts). */
export const APP_SCHEME = 'app';
export const APP_HOST = 'workbench';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_URL = `${APP_ORIGIN}/index.html`;

/** Hosts we hand to the system browser when the UI opens a link (never inside the app). */
export const EXTERNAL_LINK_HOSTS = ['www.neuronpedia.org', 'neuronpedia.org', 'huggingface.co', 'github.com', 'arxiv.org'];

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

export function isAppUrl(url: string): boolean {
  const u = parse(url);
  return !!u && u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST && !u.username && !u.password;
}

/** In-window navigation: only within our own app origin (in-app routes); everything else is denied. */
export function isNavigationAllowed(url: string): boolean {
  return isAppUrl(url);
}

/** window.open / target=_blank: never a new app window; https links on the allow-list open externally. */
export function windowOpenDecision(url: string): { action: 'deny'; openExternal: boolean } {
  const u = parse(url);
  const external = !!u && u.protocol === 'https:' && EXTERNAL_LINK_HOSTS.includes(u.hostname) && !u.username && !u.password;
  return { action: 'deny', openExternal: external };
}

/** Permission requests (camera, geolocation, notifications, …): denied, all of them. */
export function permissionDecision(_permission: string, _requestingUrl?: string): boolean {
  return false;
}

export interface SenderLike {
  /** webContents id of the sender */
  id: number;
}
export interface FrameLike {
  url: string;
  /** Top frame only: iframes never talk to main. */
  parent: unknown | null;
}

/** IPC is accepted only from our own window's top frame showing our own app URL. */
export function isTrustedSender(sender: SenderLike, frame: FrameLike | null | undefined, trustedWebContentsIds: ReadonlySet<number>): boolean {
  if (!trustedWebContentsIds.has(sender.id)) return false;
  if (!frame || frame.parent) return false;
  return isAppUrl(frame.url);
}

/** Map an app:// request URL to a file path inside the renderer folder, or null when it escapes. */
export function appUrlToRelativePath(url: string): string | null {
  const u = parse(url);
  if (!u || u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return null;
  let p: string;
  try {
    p = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  if (p.includes('\0') || p.includes('\\')) return null;
  const parts = p.split('/').filter((s) => s && s !== '.');
  if (parts.includes('..')) return null;
  return parts.length ? parts.join('/') : 'index.html';
}
