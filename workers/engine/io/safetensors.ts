/**
 * Minimal safetensors reader/writer. Reads tensor by tensor (positioned reads) so a model is never held
 * twice in memory; converts BF16/F16/F32 to float32. Every error names the file.
 * Format: u64-LE header length N, N bytes JSON header, raw little-endian data.
 */
import fs from 'node:fs';
import { FileFormatError } from '../errors.js';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
  F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};
const FLOAT_DTYPES = new Set<SafetensorsDtype>(['F32', 'F16', 'BF16', 'F64']);

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Absolute byte offsets in the file. */
  begin: number;
  end: number;
}

export class SafetensorsFile {
  private constructor(
    readonly path: string,
    private fd: number,
    readonly tensors: Map<string, TensorInfo>,
    readonly metadata: Record<string, string>,
  ) {}

  static open(path: string): SafetensorsFile {
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch (e) {
      throw new FileFormatError(path, `cannot open safetensors file (${(e as Error).message})`);
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size < 8) throw new FileFormatError(path, `file is ${size} bytes, too short for a safetensors header`);
      const lenBuf = Buffer.alloc(8);
      fs.readSync(fd, lenBuf, 0, 8, 0);
      const headerLen = Number(lenBuf.readBigUInt64LE(0));
      // The format caps headers at 100 MB; beyond that (or past the file) it is not safetensors.
      if (headerLen <= 0 || headerLen > 100_000_000 || 8 + headerLen > size) {
        throw new FileFormatError(path, `header length ${headerLen} runs past the end of the file (${size} bytes); the file is truncated or not safetensors`);
      }
      const headerBuf = Buffer.alloc(headerLen);
      fs.readSync(fd, headerBuf, 0, headerLen, 8);
      let header: Record<string, unknown>;
      try {
        header = JSON.parse(headerBuf.toString('utf8')) as Record<string, unknown>;
      } catch {
        throw new FileFormatError(path, 'header is not valid JSON');
      }
      if (!header || typeof header !== 'object' || Array.isArray(header)) throw new FileFormatError(path, 'header is not a JSON object');
      const dataStart = 8 + headerLen;
      const tensors = new Map<string, TensorInfo>();
      let metadata: Record<string, string> = {};
      for (const [name, raw] of Object.entries(header)) {
        if (name === '__metadata__') {
          metadata = (raw ?? {}) as Record<string, string>;
          continue;
        }
        if (!raw || typeof raw !== 'object') throw new FileFormatError(path, `tensor "${name}" has no header entry object`);
        const entry = raw as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
        const dtype = entry.dtype as SafetensorsDtype;
        if (!(dtype in DTYPE_BYTES)) {
          throw new FileFormatError(path, `tensor "${name}" has unknown dtype "${String(entry.dtype)}" (supported: ${Object.keys(DTYPE_BYTES).join(', ')})`);
        }
        const shape = entry.shape ?? [];
        if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
          throw new FileFormatError(path, `tensor "${name}" has an invalid shape ${JSON.stringify(entry.shape)}`);
        }
        const [b, e] = Array.isArray(entry.data_offsets) ? entry.data_offsets : [NaN, NaN];
        const numel = shape.reduce((a, x) => a * x, 1);
        if (!Number.isInteger(b) || !Number.isInteger(e) || b < 0 || e - b !== numel * DTYPE_BYTES[dtype]) {
          throw new FileFormatError(path, `tensor "${name}" data_offsets [${b}, ${e}] do not match shape [${shape}] of ${dtype}`);
        }
        if (dataStart + e > size) {
          throw new FileFormatError(path, `tensor "${name}" ends at byte ${dataStart + e} but the file has ${size} bytes (truncated)`);
        }
        tensors.set(name, { name, dtype, shape, begin: dataStart + b, end: dataStart + e });
      }
      return new SafetensorsFile(path, fd, tensors, metadata);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new FileFormatError(this.path, `tensor "${name}" not found`);
    return t;
  }

  /** Read one tensor, converted to float32. */
  readFloat32(name: string): Float32Array {
    const t = this.info(name);
    if (!FLOAT_DTYPES.has(t.dtype)) throw new FileFormatError(this.path, `tensor "${name}" is ${t.dtype}, expected a float dtype`);
    const bytes = Buffer.alloc(t.end - t.begin);
    fs.readSync(this.fd, bytes, 0, bytes.length, t.begin);
    return toFloat32(bytes, t.dtype);
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

export function toFloat32(bytes: Buffer, dtype: SafetensorsDtype): Float32Array {
  const n = bytes.length / DTYPE_BYTES[dtype];
  const out = new Float32Array(n);
  if (dtype === 'F32') {
    out.set(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)));
  } else if (dtype === 'BF16') {
    const u32 = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u32[i] = bytes.readUInt16LE(2 * i) << 16;
  } else if (dtype === 'F16') {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(bytes.readUInt16LE(2 * i));
  } else if (dtype === 'F64') {
    for (let i = 0; i < n; i++) out[i] = bytes.readDoubleLE(8 * i);
  }
  return out;
}

/** IEEE-754 binary16 → number. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Write float32 tensors as a safetensors file (atomically: temp file + rename). */
export function writeSafetensors(
  path: string,
  tensors: Record<string, { shape: number[]; data: Float32Array }>,
  metadata: Record<string, string> = { format: 'pt' },
): void {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const name of names) {
    const { shape, data } = tensors[name]!;
    const numel = shape.reduce((a, x) => a * x, 1);
    if (numel !== data.length) throw new Error(`writeSafetensors: "${name}" has ${data.length} values but shape [${shape}]`);
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const headerBuf = Buffer.from(json, 'utf8');
  const lenBuf = Buffer.alloc(8);
  lenBuf.writeBigUInt64LE(BigInt(headerBuf.length));
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, lenBuf);
    fs.writeSync(fd, headerBuf);
    for (const name of names) {
      const d = tensors[name]!.data;
      fs.writeSync(fd, new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path);
}
