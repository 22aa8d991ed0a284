/**
 * NumPy .npy and .npz (zip of .npy; stored or deflated) reading and writing, float32 out.
 * Never unpickles: object arrays are refused. Every error names the file.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { FileFormatError } from '../errors.js';
import { halfToFloat } from './safetensors.js';

export interface NdArray {
  shape: number[];
  data: Float32Array;
}

export interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Byte length of magic + header, i.e. where the data starts. */
  dataOffset: number;
}

const MAGIC = '\x93NUMPY';

export function parseNpyHeader(buf: Buffer, file: string): NpyHeader {
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== MAGIC) throw new FileFormatError(file, 'not a .npy array (bad magic)');
  const major = buf[6]!;
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    start = 10;
  } else {
    if (buf.length < 12) throw new FileFormatError(file, 'truncated .npy header');
    headerLen = buf.readUInt32LE(8);
    start = 12;
  }
  if (start + headerLen > buf.length) throw new FileFormatError(file, 'truncated .npy header');
  const text = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(text)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(text)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new FileFormatError(file, `unreadable .npy header: ${text.trim()}`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  return { descr, fortranOrder: fortran === 'True', shape, dataOffset: start + headerLen };
}

function dtypeSize(descr: string, file: string): number {
  const m = /^[<>|=]([fiub])(\d+)$/.exec(descr);
  if (!m) throw new FileFormatError(file, `unsupported .npy dtype "${descr}" (object and structured arrays are refused)`);
  return Number(m[2]);
}

/** Convert raw array bytes to float32 (f2/f4/f8 and integer types). */
function toFloat32(bytes: Buffer, descr: string, n: number, file: string): Float32Array {
  const big = descr.startsWith('>');
  const size = dtypeSize(descr, file);
  const kind = descr[1]!;
  if (bytes.length < n * size) throw new FileFormatError(file, `array data truncated: expected ${n * size} bytes, found ${bytes.length}`);
  const out = new Float32Array(n);
  if (kind === 'f' && size === 4 && !big) {
    out.set(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + n * 4)));
    return out;
  }
  for (let i = 0; i < n; i++) {
    const o = i * size;
    if (kind === 'f') {
      if (size === 4) out[i] = big ? bytes.readFloatBE(o) : bytes.readFloatLE(o);
      else if (size === 8) out[i] = big ? bytes.readDoubleBE(o) : bytes.readDoubleLE(o);
      else if (size === 2) out[i] = halfToFloat(big ? bytes.readUInt16BE(o) : bytes.readUInt16LE(o));
      else throw new FileFormatError(file, `unsupported float size ${size}`);
    } else if (kind === 'b') {
      out[i] = bytes[o]!;
    } else {
      const signed = kind === 'i';
      if (size === 1) out[i] = signed ? bytes.readInt8(o) : bytes[o]!;
      else if (size === 2) out[i] = signed ? (big ? bytes.readInt16BE(o) : bytes.readInt16LE(o)) : big ? bytes.readUInt16BE(o) : bytes.readUInt16LE(o);
      else if (size === 4) out[i] = signed ? (big ? bytes.readInt32BE(o) : bytes.readInt32LE(o)) : big ? bytes.readUInt32BE(o) : bytes.readUInt32LE(o);
      else if (size === 8) out[i] = Number(signed ? (big ? bytes.readBigInt64BE(o) : bytes.readBigInt64LE(o)) : big ? bytes.readBigUInt64BE(o) : bytes.readBigUInt64LE(o));
    }
  }
  return out;
}


function fortranToC(data: Float32Array, shape: number[]): Float32Array {
  if (shape.length < 2) return data;
  const out = new Float32Array(data.length);
  const n = shape.length;
  const cStride = new Array<number>(n).fill(1);
  const fStride = new Array<number>(n).fill(1);
  for (let i = n - 2; i >= 0; i--) cStride[i] = cStride[i + 1]! * shape[i + 1]!;
  for (let i = 1; i < n; i++) fStride[i] = fStride[i - 1]! * shape[i - 1]!;
  const idx = new Array<number>(n).fill(0);
  for (let c = 0; c < data.length; c++) {
    let f = 0;
    for (let k = 0; k < n; k++) f += idx[k]! * fStride[k]!;
    out[c] = data[f]!;
    for (let k = n - 1; k >= 0; k--) {
      if (++idx[k]! < shape[k]!) break;
      idx[k] = 0;
    }
  }
  return out;
}

export function parseNpy(buf: Buffer, file: string): NdArray {
  const h = parseNpyHeader(buf, file);
  const n = h.shape.reduce((a, x) => a * x, 1);
  const data = toFloat32(buf.subarray(h.dataOffset), h.descr, n, file);
  return { shape: h.shape, data: h.fortranOrder ? fortranToC(data, h.shape) : data };
}

export function readNpy(path: string): NdArray {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(path);
  } catch (e) {
    throw new FileFormatError(path, `cannot read (${(e as Error).message})`);
  }
  return parseNpy(buf, path);
}

export function npyBytes(shape: number[], data: Float32Array | Int32Array): Buffer {
  const descr = data instanceof Int32Array ? '<i4' : '<f4';
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write(MAGIC, 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

/** Atomic write of a float32 (or int32) .npy file. */
export function writeNpy(path: string, shape: number[], data: Float32Array | Int32Array): void {
  writeAtomic(path, npyBytes(shape, data));
}

function writeAtomic(path: string, bytes: Buffer): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, bytes);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path);
}

// ---------------------------------------------------------------- npz (zip)

export interface NpzEntry {
  /** Array name (file name without .npy). */
  name: string;
  method: number; // 0 stored, 8 deflate
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

export class NpzFile {
  private constructor(readonly path: string, private fd: number, private fileSize: number, readonly entries: Map<string, NpzEntry>) {}

  static open(path: string): NpzFile {
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch (e) {
      throw new FileFormatError(path, `cannot open .npz (${(e as Error).message})`);
    }
    try {
      const size = fs.fstatSync(fd).size;
      const tailLen = Math.min(size, 65557);
      const tail = Buffer.alloc(tailLen);
      fs.readSync(fd, tail, 0, tailLen, size - tailLen);
      let eocd = -1;
      for (let i = tailLen - 22; i >= 0; i--) {
        if (tail.readUInt32LE(i) === 0x06054b50) {
          eocd = i;
          break;
        }
      }
      if (eocd < 0) throw new FileFormatError(path, 'not a zip/.npz archive or truncated (no end-of-central-directory record)');
      const count = tail.readUInt16LE(eocd + 10);
      const cdSize = tail.readUInt32LE(eocd + 12);
      const cdOffset = tail.readUInt32LE(eocd + 16);
      if (cdOffset === 0xffffffff || count === 0xffff) throw new FileFormatError(path, 'zip64 archives are not supported');
      if (cdOffset + cdSize > size) throw new FileFormatError(path, 'central directory lies past the end of the file (truncated)');
      const cd = Buffer.alloc(cdSize);
      fs.readSync(fd, cd, 0, cdSize, cdOffset);
      const entries = new Map<string, NpzEntry>();
      let p = 0;
      for (let i = 0; i < count; i++) {
        if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50) throw new FileFormatError(path, 'corrupt zip central directory');
        const method = cd.readUInt16LE(p + 10);
        const compressedSize = cd.readUInt32LE(p + 20);
        const uncompressed = cd.readUInt32LE(p + 24);
        const nameLen = cd.readUInt16LE(p + 28);
        const extraLen = cd.readUInt16LE(p + 30);
        const commentLen = cd.readUInt16LE(p + 32);
        const localHeaderOffset = cd.readUInt32LE(p + 42);
        const fileName = cd.toString('utf8', p + 46, p + 46 + nameLen);
        if (compressedSize === 0xffffffff || localHeaderOffset === 0xffffffff) throw new FileFormatError(path, `entry ${fileName}: zip64 entries are not supported`);
        const name = fileName.replace(/\.npy$/, '');
        entries.set(name, { name, method, compressedSize, size: uncompressed, localHeaderOffset });
        p += 46 + nameLen + extraLen + commentLen;
      }
      return new NpzFile(path, fd, size, entries);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Absolute offset of an entry's raw (possibly compressed) bytes. */
  private dataStart(e: NpzEntry): number {
    const lh = Buffer.alloc(30);
    fs.readSync(this.fd, lh, 0, 30, e.localHeaderOffset);
    if (lh.readUInt32LE(0) !== 0x04034b50) throw new FileFormatError(this.path, `entry ${e.name}: bad local header`);
    const start = e.localHeaderOffset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
    if (start + e.compressedSize > this.fileSize) {
      throw new FileFormatError(this.path, `entry ${e.name}.npy runs past the end of the file (truncated)`);
    }
    return start;
  }

  private rawBytes(name: string): Buffer {
    const e = this.entries.get(name);
    if (!e) throw new FileFormatError(this.path, `array "${name}" not found (has: ${this.names().join(', ')})`);
    const start = this.dataStart(e);
    const comp = Buffer.alloc(e.compressedSize);
    fs.readSync(this.fd, comp, 0, e.compressedSize, start);
    if (e.method === 0) return comp;
    if (e.method === 8) {
      try {
        return zlib.inflateRawSync(comp);
      } catch (err) {
        throw new FileFormatError(this.path, `entry ${name}.npy: corrupt deflate data (${(err as Error).message})`);
      }
    }
    throw new FileFormatError(this.path, `entry ${name}.npy: unsupported zip compression method ${e.method}`);
  }

  /** Header of an array without reading its data. */
  header(name: string): NpyHeader {
    const e = this.entries.get(name);
    if (!e) throw new FileFormatError(this.path, `array "${name}" not found (has: ${this.names().join(', ')})`);
    if (e.method !== 0) return parseNpyHeader(this.rawBytes(name), `${this.path}:${name}.npy`);
    const start = this.dataStart(e);
    const head = Buffer.alloc(Math.min(e.size, 4096));
    fs.readSync(this.fd, head, 0, head.length, start);
    return parseNpyHeader(head, `${this.path}:${name}.npy`);
  }

  read(name: string): NdArray {
    return parseNpy(this.rawBytes(name), `${this.path}:${name}.npy`);
  }

  /**
   * Read rows [r0, r1) of a stored (uncompressed), C-ordered little-endian float32 2-D array without
   * reading the rest — used to stream wide SAE matrices. Falls back to a full read otherwise.
   */
  readRows(name: string, r0: number, r1: number): NdArray {
    const e = this.entries.get(name);
    const h = this.header(name);
    const cols = h.shape.slice(1).reduce((a, x) => a * x, 1);
    if (!e || e.method !== 0 || h.fortranOrder || h.descr !== '<f4') {
      const all = this.read(name);
      return { shape: [r1 - r0, ...all.shape.slice(1)], data: all.data.slice(r0 * cols, r1 * cols) };
    }
    const start = this.dataStart(e) + h.dataOffset + r0 * cols * 4;
    const buf = Buffer.alloc((r1 - r0) * cols * 4);
    fs.readSync(this.fd, buf, 0, buf.length, start);
    return { shape: [r1 - r0, ...h.shape.slice(1)], data: new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4).slice() };
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

// CRC-32 for writing zip entries.
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Write arrays as an uncompressed .npz (the layout `np.savez` produces), atomically. */
export function writeNpz(path: string, arrays: Record<string, { shape: number[]; data: Float32Array }>): void {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, arr] of Object.entries(arrays)) {
    const body = npyBytes(arr.shape, arr.data);
    const fname = Buffer.from(`${name}.npy`, 'utf8');
    const crc = crc32(body);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(body.length, 18);
    lh.writeUInt32LE(body.length, 22);
    lh.writeUInt16LE(fname.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(body.length, 20);
    ch.writeUInt32LE(body.length, 24);
    ch.writeUInt16LE(fname.length, 28);
    ch.writeUInt32LE(offset, 42);
    locals.push(lh, fname, body);
    centrals.push(ch, fname);
    offset += 30 + fname.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  const n = Object.keys(arrays).length;
  eocd.writeUInt16LE(n, 8);
  eocd.writeUInt16LE(n, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  writeAtomic(path, Buffer.concat([...locals, cd, eocd]));
}
