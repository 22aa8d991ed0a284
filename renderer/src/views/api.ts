import { fromShellApi, isShellApi } from './adapter';
import type { AnyApi, ViewApi } from './types';

const cache = new WeakMap<object, ViewApi>();

/** The shell's WorkbenchApi → the calls the views make (memoised per api object); a ViewApi passes through. */
export function toViewApi(api: AnyApi | null | undefined): ViewApi {
  if (!api) return {};
  if (!isShellApi(api)) return api;
  let v = cache.get(api);
  if (!v) cache.set(api, (v = fromShellApi(api)));
  return v;
}
