import { useSyncExternalStore } from 'react';

/**
 * Cross-view navigation and selection, without owning the frame. `navigate` dispatches a
 * `workbench:navigate` event (detail `{view, params}`) that the shell's rail listens to, and records the
 * request in the location hash (`#/features?f=L3/12`) so a reload lands on the same place.
 */
export const NAVIGATE_EVENT = 'workbench:navigate';

export interface NavRequest {
  view: string;
  params?: Record<string, string>;
}

type Listener = () => void;
const listeners = new Set<Listener>();
let state: { feature?: string; runId?: string; features: string[] } = { features: [] };

function emit() {
  for (const l of listeners) l();
}

function readHash(): void {
  if (typeof location === 'undefined') return;
  const m = /^#\/?([^?]*)\??(.*)$/.exec(location.hash);
  if (!m) return;
  const q = new URLSearchParams(m[2]);
  const f = q.get('f');
  if (f && f !== state.feature) state = { ...state, feature: f };
}
readHash();

export function navigate(view: string, params?: Record<string, string>) {
  if (params?.f) selectFeature(params.f);
  if (typeof window !== 'undefined') {
    const q = params ? new URLSearchParams(params).toString() : '';
    try {
      history.replaceState(null, '', `#/${view}${q ? `?${q}` : ''}`);
    } catch {
      /* sandboxed */
    }
    window.dispatchEvent(new CustomEvent<NavRequest>(NAVIGATE_EVENT, { detail: { view, params } }));
  }
}

export function selectFeature(key: string | undefined) {
  if (state.feature === key) return;
  state = { ...state, feature: key };
  emit();
}

export function selectRun(runId: string | undefined) {
  if (state.runId === runId) return;
  state = { ...state, runId };
  emit();
}

/** A feature set assembled from the graph ("add to a feature set"), used by the playground. */
export function addToFeatureSet(key: string) {
  if (state.features.includes(key)) return;
  state = { ...state, features: [...state.features, key] };
  emit();
}
export function setFeatureSet(keys: string[]) {
  state = { ...state, features: keys };
  emit();
}

function subscribe(l: Listener) {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function useSelection() {
  return useSyncExternalStore(subscribe, () => state, () => state);
}

/** Tests only. */
export function resetSelection() {
  state = { features: [] };
  emit();
}
