/**
 * WebGPU: `navigator.gpu` from the npm `webgpu` package (Dawn) in Node, the browser's own in Electron;
 * adapter inspection (software adapters are slower than wasm: auto-selection skips them), limits, and
 * device errors turned into exceptions (Dawn otherwise only prints them, and results are silently wrong).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as fs from 'node:fs';
import * as path from 'node:path';

/* Minimal WebGPU shapes (this project compiles without @webgpu/types). */
export interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}
export interface GpuAdapterLike {
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number };
  info?: GpuAdapterInfoLike;
  isFallbackAdapter?: boolean;
  requestAdapterInfo?: () => Promise<GpuAdapterInfoLike>;
}
export interface GpuErrorLike {
  message: string;
  constructor: { name: string };
}
export interface GpuDeviceLike {
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number };
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  popErrorScope(): Promise<GpuErrorLike | null>;
  addEventListener?(type: 'uncapturederror', fn: (ev: { error: GpuErrorLike }) => void): void;
  onuncapturederror?: ((ev: { error: GpuErrorLike }) => void) | null;
  lost?: Promise<{ reason: string; message: string }>;
}
interface GpuLike {
  requestAdapter(opts?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}

export class GpuDeviceError extends Error {
  constructor(readonly kind: string, message: string) {
    super(`WebGPU ${kind}: ${message}`);
    this.name = 'GpuDeviceError';
  }
}

export interface AdapterSummary {
  description: string;
  software: boolean;
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

const isNode =
  typeof process !== 'undefined' && typeof process.versions?.node === 'string' &&
  typeof (globalThis as { window?: unknown }).window === 'undefined';

function nav(): { gpu?: GpuLike } | undefined {
  return (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
}

/**
 * Linux: Dawn needs the Vulkan loader. Without it, loading dawn.node only prints a warning and finds no
 * adapter; checking first keeps start-up quiet and cheap.
 */
export function hasVulkanLoader(): boolean {
  if (!isNode || process.platform !== 'linux') return true;
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu',
    '/lib64', '/usr/local/lib',
  ];
  return dirs.some((d) => fs.existsSync(path.join(d, 'libvulkan.so.1')));
}

/** Makes `navigator.gpu` exist (Node: npm `webgpu`). Must run before the tfjs webgpu backend is imported. */
export async function ensureNavigatorGpu(): Promise<GpuLike | null> {
  const existing = nav()?.gpu;
  if (existing) return existing;
  if (!isNode || !hasVulkanLoader()) return null;
  try {
    const spec = 'webgpu';
    const mod = (await import(/* @vite-ignore */ spec)) as { create(o: string[]): GpuLike; globals: object };
    Object.assign(globalThis, mod.globals);
    const g = globalThis as { navigator?: { gpu?: GpuLike } };
    const gpu = mod.create([]);
    if (!g.navigator) {
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    } else {
      try {
        g.navigator.gpu = gpu;
      } catch {
        Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
      }
    }
    return nav()?.gpu ?? null;
  } catch {
    return null;
  }
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software|microsoft basic render/i;

export function isSoftwareAdapter(info: GpuAdapterInfoLike, isFallback = false): boolean {
  if (isFallback) return true;
  const text = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
  return SOFTWARE.test(text) || /^cpu$/i.test(info.architecture ?? '');
}

export async function probeAdapter(): Promise<AdapterSummary | null> {
  const gpu = await ensureNavigatorGpu();
  if (!gpu) return null;
  let adapter: GpuAdapterLike | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch {
    return null;
  }
  if (!adapter) return null;
  let info: GpuAdapterInfoLike = adapter.info ?? {};
  if (!adapter.info && adapter.requestAdapterInfo) {
    try {
      info = await adapter.requestAdapterInfo();
    } catch {
      /* keep empty */
    }
  }
  const description =
    (info.description && String(info.description).trim()) ||
    [info.vendor, info.architecture, info.device].filter((x) => x && String(x).length > 0).join(' ') ||
    'unknown adapter';
  return {
    description,
    software: isSoftwareAdapter(info, adapter.isFallbackAdapter ?? false),
    maxStorageBufferBindingSize: Number(adapter.limits.maxStorageBufferBindingSize),
    maxBufferSize: Number(adapter.limits.maxBufferSize),
  };
}

/** The GPUDevice of the active tfjs webgpu backend. */
export function webgpuDevice(): GpuDeviceLike | null {
  try {
    const b = tf.findBackend('webgpu') as unknown as { device?: GpuDeviceLike } | null;
    return b?.device ?? null;
  } catch {
    return null;
  }
}

let lastUncaptured: GpuDeviceError | null = null;

/** Records uncaptured device errors so that `throwIfDeviceError` / `withGpuErrorScope` can raise them. */
export function installUncapturedErrorHandler(device: GpuDeviceLike): void {
  const handler = (ev: { error: GpuErrorLike }) => {
    lastUncaptured = new GpuDeviceError(ev.error?.constructor?.name ?? 'error', ev.error?.message ?? String(ev.error));
  };
  if (device.addEventListener) device.addEventListener('uncapturederror', handler);
  else device.onuncapturederror = handler;
  device.lost?.then((l) => {
    lastUncaptured = new GpuDeviceError('device lost', `${l.reason}: ${l.message}`);
  }).catch(() => undefined);
}

/** Throws (once) the last uncaptured device error, if any. */
export function throwIfDeviceError(): void {
  const e = lastUncaptured;
  if (e) {
    lastUncaptured = null;
    throw e;
  }
}

/**
 * Runs `fn` inside validation / out-of-memory / internal error scopes of `device` and throws a
 * GpuDeviceError if any scope caught an error (or an uncaptured one arrived meanwhile). `fn` should
 * finish its GPU work (e.g. `await t.data()`) so that errors belong to it.
 */
export async function withGpuErrorScope<T>(device: GpuDeviceLike | null, fn: () => Promise<T> | T): Promise<T> {
  if (!device) return await fn();
  device.pushErrorScope('internal');
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let value: T;
  try {
    value = await fn();
  } finally {
    const errors = await Promise.all([device.popErrorScope(), device.popErrorScope(), device.popErrorScope()]);
    const kinds = ['validation', 'out-of-memory', 'internal'];
    const i = errors.findIndex((e) => e != null);
    if (i >= 0) throw new GpuDeviceError(kinds[i], errors[i]!.message);
  }
  throwIfDeviceError();
  return value;
}
