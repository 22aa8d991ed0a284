import { useEffect, type RefObject } from 'react';

function typingInField(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  if (!t) return false;
  const tag = t.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || t.isContentEditable === true;
}

/** `/` focuses this view's search field (unless the user is typing somewhere). */
export function useSlashFocus(ref: RefObject<HTMLInputElement | null>) {
  useEffect(() => {
    const h = (e: KeyboardEvent) => {
      if (e.key === '/' && !e.defaultPrevented && !typingInField(e) && !e.ctrlKey && !e.metaKey && !e.altKey) {
        e.preventDefault();
        ref.current?.focus();
        ref.current?.select();
      }
    };
    // the frame turns `/` into a `workbench:search` event (and may prevent the key's default first)
    const onSearch = () => {
      ref.current?.focus();
      ref.current?.select();
    };
    window.addEventListener('keydown', h);
    window.addEventListener('workbench:search', onSearch);
    return () => {
      window.removeEventListener('keydown', h);
      window.removeEventListener('workbench:search', onSearch);
    };
  }, [ref]);
}

/** Esc closes (side panels, dialogs). Also blurs a focused search field. */
export function useEscape(onEscape: () => void, active = true) {
  useEffect(() => {
    if (!active) return;
    const h = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        if (typingInField(e)) (e.target as HTMLElement).blur();
        onEscape();
      }
    };
    window.addEventListener('keydown', h);
    return () => window.removeEventListener('keydown', h);
  }, [onEscape, active]);
}

/**
 * Global view shortcuts: `g` graph, `f` features. The shell may install its own; this is idempotent per
 * window (a second install is a no-op) so the views and the shell do not both navigate.
 */
export function installViewShortcuts(navigate: (view: string) => void): () => void {
  const w = window as unknown as { __wbShortcuts?: boolean };
  if (w.__wbShortcuts) return () => undefined;
  w.__wbShortcuts = true;
  const h = (e: KeyboardEvent) => {
    if (typingInField(e) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'g') navigate('graph');
    else if (e.key === 'f') navigate('features');
  };
  window.addEventListener('keydown', h);
  return () => {
    window.removeEventListener('keydown', h);
    w.__wbShortcuts = false;
  };
}
