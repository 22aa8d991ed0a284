import { useCallback, useEffect, useRef, useState } from 'react';

export interface AsyncState<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  /** true once loading has lasted over a second — show a progress bar then */
  slow: boolean;
  reload: () => void;
}

/** Load data once (and on `reload`); `slow` flips after 1 s so views show a progress bar only when it matters. */
export function useAsync<T>(fn: () => Promise<T> | undefined, deps: unknown[]): AsyncState<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(true);
  const [slow, setSlow] = useState(false);
  const [tick, setTick] = useState(0);
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);
  useEffect(() => {
    let cancelled = false;
    setLoading(true);
    setError(undefined);
    const t = setTimeout(() => !cancelled && setSlow(true), 1000);
    const p = fn();
    if (!p) {
      setLoading(false);
      clearTimeout(t);
      return;
    }
    p.then(
      (v) => {
        if (!cancelled) setData(v);
      },
      (e: unknown) => {
        if (!cancelled) setError(e instanceof Error ? e.message : String(e));
      },
    ).finally(() => {
      clearTimeout(t);
      if (!cancelled) {
        setLoading(false);
        setSlow(false);
      }
    });
    return () => {
      cancelled = true;
      clearTimeout(t);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((x) => x + 1), []);
  return { data, error, loading, slow, reload };
}

/** Run an action with busy/slow/error state (for buttons that start work). */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [slow, setSlow] = useState(false);
  const [error, setError] = useState<string>();
  const run = useCallback(async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(undefined);
    const t = setTimeout(() => setSlow(true), 1000);
    try {
      return await fn();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      return undefined;
    } finally {
      clearTimeout(t);
      setBusy(false);
      setSlow(false);
    }
  }, []);
  return { busy, slow, error, run, setError };
}
