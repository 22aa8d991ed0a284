/**
 * NumPy .npy and .npz (zip of .npy; stored or deflated; zip64 for archives and members over 4 GiB)
 * reading and writing, float32 out. Never unpickles: object arrays are refused. Every error names the file.
 *
 * These files come from the internet, so nothing is allocated on a size the file merely claims: a header's
 * shape is checked against the bytes the member holds, a member against the bytes the archive holds, and
 * inflation is capped at the member's declared size (and at `maxInflatedBytes`), so a deflate bomb or a
 * header claiming d_sae 4,000,000 over 64 bytes is an error before any large buffer exists. Members are
 * read by offset (positioned reads), never by loading the archive.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { FileFormatError } from '../errors.js';
import { halfToFloat } from './safetensors.js';
import { openUserFile } from './user-file.js';

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
  /** Bytes of array data the header implies (elements × item size). */
  dataBytes: number;
}

const MAGIC = '\x93NUMPY';
/** numpy writes headers of a few hundred bytes; anything far larger is not a real array header. */
const MAX_HEADER_BYTES = 1 << 20;
/** Largest possible deflate expansion (RFC 1951: 258 bytes from a 2-bit code, ~1032:1) plus slack. */
const MAX_DEFLATE_RATIO = 1040;
const MiB = 1024 * 1024;
/** Compressed members above this size must not inflate by more than MAX_LARGE_MEMBER_RATIO. */
const BOMB_FLOOR_BYTES = 16 * MiB;
const MAX_LARGE_MEMBER_RATIO = 32;

/** Item sizes numpy uses for the kinds we convert (b = bool). */
const ITEM_SIZES: Record<string, number[]> = { f: [2, 4, 8], i: [1, 2, 4, 8], u: [1, 2, 4, 8], b: [1] };

function dtypeSize(descr: string, file: string): number {
  const m = /^[<>|=]([fiub])(\d+)$/.exec(descr);
  const size = m ? Number(m[2]) : NaN;
  if (!m || !ITEM_SIZES[m[1]!]!.includes(size)) {
    throw new FileFormatError(file, `unsupported .npy dtype "${descr}" (float16/32/64, integers and bool are read; object and structured arrays are refused)`);
  }
  return size;
}

/** Parse the header of a .npy byte string; the buffer need only hold the header, not the data. */
export function parseNpyHeader(buf: Buffer, file: string): NpyHeader {
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== MAGIC) throw new FileFormatError(file, 'not a .npy array (bad magic)');
  const major = buf[6]!;
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new FileFormatError(file, 'truncated .npy header');
    headerLen = buf.readUInt32LE(8);
    start = 12;
  } else {
    throw new FileFormatError(file, `unsupported .npy format version ${major}`);
  }
  if (headerLen > MAX_HEADER_BYTES) throw new FileFormatError(file, `.npy header claims ${headerLen} bytes (real headers are a few hundred)`);
  if (start + headerLen > buf.length) throw new FileFormatError(file, 'truncated .npy header');
  const text = buf.toString(major === 3 ? 'utf8' : 'latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(text)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(text)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new FileFormatError(file, `unreadable .npy header: ${text.trim().slice(0, 200)}`);
  const parts = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const shape = parts.map((s) => (/^\d{1,16}L?$/.test(s) ? Number(s.replace(/L$/, '')) : NaN));
  if (shape.some((x) => !Number.isSafeInteger(x))) throw new FileFormatError(file, `.npy header has an invalid shape (${shapeText.trim()})`);
  const itemSize = dtypeSize(descr, file);
  let dataBytes = itemSize;
  for (const d of shape) dataBytes *= d;
  if (!Number.isSafeInteger(dataBytes)) throw new FileFormatError(file, `.npy shape (${shapeText.trim()}) is impossibly large`);
  return { descr, fortranOrder: fortran === 'True', shape, dataOffset: start + headerLen, dataBytes };
}

/** Convert raw array bytes to float32 (f2/f4/f8, integer and bool types). */
function toFloat32(bytes: Buffer, descr: string, n: number, file: string): Float32Array {
  const big = descr.startsWith('>');
  const size = dtypeSize(descr, file);
  const kind = descr[1]!;
  // Checked before the output is allocated: the bytes must exist.
  if (bytes.length < n * size) throw new FileFormatError(file, `array data truncated: expected ${n * size} bytes, found ${bytes.length}`);
  const out = new Float32Array(n);
  if (kind === 'f' && size === 4 && !big) {
    // One copy, straight into the output (no intermediate ArrayBuffer slice).
    new Uint8Array(out.buffer).set(bytes.subarray(0, n * 4));
    return out;
  }
  for (let i = 0; i < n; i++) {
    const o = i * size;
    if (kind === 'f') {
      if (size === 4) out[i] = big ? bytes.readFloatBE(o) : bytes.readFloatLE(o);
      else if (size === 8) out[i] = big ? bytes.readDoubleBE(o) : bytes.readDoubleLE(o);
      else out[i] = halfToFloat(big ? bytes.readUInt16BE(o) : bytes.readUInt16LE(o));
    } else if (kind === 'b') {
      out[i] = bytes[o]!;
    } else {
      const signed = kind === 'i';
      if (size === 1) out[i] = signed ? bytes.readInt8(o) : bytes[o]!;
      else if (size === 2) out[i] = signed ? (big ? bytes.readInt16BE(o) : bytes.readInt16LE(o)) : big ? bytes.readUInt16BE(o) : bytes.readUInt16LE(o);
      else if (size === 4) out[i] = signed ? (big ? bytes.readInt32BE(o) : bytes.readInt32LE(o)) : big ? bytes.readUInt32BE(o) : bytes.readUInt32LE(o);
      else out[i] = Number(signed ? (big ? bytes.readBigInt64BE(o) : bytes.readBigInt64LE(o)) : big ? bytes.readBigUInt64BE(o) : bytes.readBigUInt64LE(o));
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

function elements(shape: number[]): number {
  return shape.reduce((a, x) => a * x, 1);
}

export function parseNpy(buf: Buffer, file: string): NdArray {
  const h = parseNpyHeader(buf, file);
  if (buf.length - h.dataOffset < h.dataBytes) {
    throw new FileFormatError(file, `header claims shape [${h.shape}] (${h.dataBytes} bytes of ${h.descr}) but only ${Math.max(0, buf.length - h.dataOffset)} bytes of data follow (truncated)`);
  }
  const data = toFloat32(buf.subarray(h.dataOffset), h.descr, elements(h.shape), file);
  return { shape: h.shape, data: h.fortranOrder ? fortranToC(data, h.shape) : data };
}

/** Read a standalone .npy file: a regular file whose length covers what its header claims. */
export function readNpy(path: string): NdArray {
  const { fd, size } = openUserFile(path, { maxBytes: Number.MAX_SAFE_INTEGER, what: '.npy array' });
  try {
    const head = Buffer.alloc(Math.min(size, 64 * 1024));
    fs.readSync(fd, head, 0, head.length, 0);
    let h: NpyHeader;
    try {
      h = parseNpyHeader(head, path);
    } catch (e) {
      // A header longer than the first read (rare, v2/v3): read exactly as much as it says, if it exists.
      if (!(e instanceof FileFormatError) || !/truncated \.npy header/.test(e.problem) || head.length < 12 || size <= head.length) throw e;
      const need = Math.min(size, 12 + head.readUInt32LE(8));
      const more = Buffer.alloc(need);
      fs.readSync(fd, more, 0, need, 0);
      h = parseNpyHeader(more, path);
    }
    if (size - h.dataOffset < h.dataBytes) {
      throw new FileFormatError(path, `header claims shape [${h.shape}] (${h.dataBytes} bytes of ${h.descr}) but the file holds ${Math.max(0, size - h.dataOffset)} bytes of data (truncated)`);
    }
    const buf = Buffer.alloc(h.dataOffset + h.dataBytes);
    fs.readSync(fd, buf, 0, buf.length, 0);
    return parseNpy(buf, path);
  } finally {
    fs.closeSync(fd);
  }
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

export interface NpzOpenOptions {
  /**
   * Largest member that is inflated into memory (deflate-compressed members cannot be read by offset).
   * Default 256 MiB; real SAE releases (np.savez) are stored, so this only bounds np.savez_compressed files.
   */
  maxInflatedBytes?: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const U32_MAX = 0xffffffff;

function u64(buf: Buffer, at: number, file: string, what: string): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FileFormatError(file, `zip ${what} ${v} is impossibly large (corrupt archive)`);
  return Number(v);
}

export class NpzFile {
  private constructor(
    readonly path: string,
    private fd: number,
    private fileSize: number,
    readonly entries: Map<string, NpzEntry>,
    private readonly maxInflated: number,
  ) {}

  static open(path: string, opts: NpzOpenOptions = {}): NpzFile {
    const { fd, size } = openUserFile(path, { maxBytes: Number.MAX_SAFE_INTEGER, what: '.npz archive' });
    try {
      const entries = NpzFile.readDirectory(path, fd, size);
      return new NpzFile(path, fd, size, entries, opts.maxInflatedBytes ?? 256 * MiB);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  private static readAt(fd: number, len: number, pos: number, fileSize: number, path: string, what: string): Buffer {
    if (pos < 0 || len < 0 || pos + len > fileSize) throw new FileFormatError(path, `${what} lies past the end of the file (truncated or corrupt)`);
    const buf = Buffer.alloc(len);
    const got = fs.readSync(fd, buf, 0, len, pos);
    if (got !== len) throw new FileFormatError(path, `short read of ${what} (file changed or truncated)`);
    return buf;
  }

  /** The central directory (zip or zip64), every entry's sizes and offsets checked against the file length. */
  private static readDirectory(path: string, fd: number, size: number): Map<string, NpzEntry> {
    const tailLen = Math.min(size, 65557);
    const tailPos = size - tailLen;
    const tail = NpzFile.readAt(fd, tailLen, tailPos, size, path, 'end of archive');
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === SIG_EOCD) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new FileFormatError(path, 'not a zip/.npz archive or truncated (no end-of-central-directory record)');
    let count = tail.readUInt16LE(eocd + 10);
    let cdSize = tail.readUInt32LE(eocd + 12);
    let cdOffset = tail.readUInt32LE(eocd + 16);
    // zip64: the locator sits just before the EOCD and points at the zip64 EOCD with 64-bit fields.
    const locPos = tailPos + eocd - 20;
    const locator = locPos >= 0 ? NpzFile.readAt(fd, 20, locPos, size, path, 'zip64 locator') : null;
    if (locator && locator.readUInt32LE(0) === SIG_EOCD64_LOCATOR) {
      const at = u64(locator, 8, path, 'zip64 end-of-directory offset');
      const rec = NpzFile.readAt(fd, 56, at, size, path, 'zip64 end-of-central-directory record');
      if (rec.readUInt32LE(0) !== SIG_EOCD64) throw new FileFormatError(path, 'zip64 locator points at no zip64 end-of-central-directory record (corrupt archive)');
      count = u64(rec, 32, path, 'entry count');
      cdSize = u64(rec, 40, path, 'central directory size');
      cdOffset = u64(rec, 48, path, 'central directory offset');
    } else if (count === 0xffff || cdSize === U32_MAX || cdOffset === U32_MAX) {
      throw new FileFormatError(path, 'zip64 archive without its zip64 end-of-central-directory locator (truncated or corrupt)');
    }
    if (cdOffset + cdSize > size) throw new FileFormatError(path, `central directory (${cdSize} bytes at ${cdOffset}) lies past the end of the file (${size} bytes; truncated)`);
    if (count * 46 > cdSize) throw new FileFormatError(path, `zip claims ${count} entries but its central directory has room for ${Math.floor(cdSize / 46)}`);
    const cd = NpzFile.readAt(fd, cdSize, cdOffset, size, path, 'central directory');
    const entries = new Map<string, NpzEntry>();
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== SIG_CENTRAL) throw new FileFormatError(path, 'corrupt zip central directory');
      const flags = cd.readUInt16LE(p + 8);
      const method = cd.readUInt16LE(p + 10);
      let compressedSize = cd.readUInt32LE(p + 20);
      let uncompressed = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      let localHeaderOffset = cd.readUInt32LE(p + 42);
      if (p + 46 + nameLen + extraLen + commentLen > cd.length) throw new FileFormatError(path, 'corrupt zip central directory (entry runs past its end)');
      const fileName = cd.toString('utf8', p + 46, p + 46 + nameLen);
      if (flags & 1) throw new FileFormatError(path, `entry ${fileName} is encrypted`);
      // zip64 extended information (0x0001): 64-bit values for exactly the fields that read 0xffffffff.
      for (let q = p + 46 + nameLen; q + 4 <= p + 46 + nameLen + extraLen; ) {
        const id = cd.readUInt16LE(q);
        const len = cd.readUInt16LE(q + 2);
        if (q + 4 + len > p + 46 + nameLen + extraLen) throw new FileFormatError(path, `entry ${fileName}: corrupt extra field`);
        if (id === 0x0001) {
          let r = q + 4;
          const take = (what: string): number => {
            if (r + 8 > q + 4 + len) throw new FileFormatError(path, `entry ${fileName}: zip64 extra field lacks the ${what}`);
            const v = u64(cd, r, path, what);
            r += 8;
            return v;
          };
          if (uncompressed === U32_MAX) uncompressed = take('uncompressed size');
          if (compressedSize === U32_MAX) compressedSize = take('compressed size');
          if (localHeaderOffset === U32_MAX) localHeaderOffset = take('local header offset');
        }
        q += 4 + len;
      }
      if (compressedSize === U32_MAX || uncompressed === U32_MAX || localHeaderOffset === U32_MAX) {
        throw new FileFormatError(path, `entry ${fileName}: zip64 sizes are missing their extra field (corrupt archive)`);
      }
      if (localHeaderOffset + 30 + compressedSize > size) {
        throw new FileFormatError(path, `entry ${fileName} (${compressedSize} bytes at ${localHeaderOffset}) runs past the end of the file (${size} bytes; truncated)`);
      }
      if (method === 0 && compressedSize !== uncompressed) {
        throw new FileFormatError(path, `entry ${fileName}: stored member with compressed size ${compressedSize} ≠ size ${uncompressed} (corrupt archive)`);
      }
      if (method === 8 && uncompressed > compressedSize * MAX_DEFLATE_RATIO + 1024) {
        throw new FileFormatError(path, `entry ${fileName}: claims to inflate ${compressedSize} bytes to ${uncompressed}, beyond what deflate can produce (corrupt archive)`);
      }
      const name = fileName.replace(/\.npy$/, '');
      entries.set(name, { name, method, compressedSize, size: uncompressed, localHeaderOffset });
      p += 46 + nameLen + extraLen + commentLen;
    }
    return entries;
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  private entry(name: string): NpzEntry {
    const e = this.entries.get(name);
    if (!e) throw new FileFormatError(this.path, `array "${name}" not found (has: ${this.names().join(', ')})`);
    if (e.method !== 0 && e.method !== 8) throw new FileFormatError(this.path, `entry ${name}.npy: unsupported zip compression method ${e.method} (stored and deflate are read)`);
    return e;
  }

  /** Absolute offset of an entry's raw (possibly compressed) bytes. */
  private dataStart(e: NpzEntry): number {
    const lh = NpzFile.readAt(this.fd, 30, e.localHeaderOffset, this.fileSize, this.path, `local header of ${e.name}.npy`);
    if (lh.readUInt32LE(0) !== SIG_LOCAL) throw new FileFormatError(this.path, `entry ${e.name}: bad local header`);
    const start = e.localHeaderOffset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
    if (start + e.compressedSize > this.fileSize) {
      throw new FileFormatError(this.path, `entry ${e.name}.npy runs past the end of the file (truncated)`);
    }
    return start;
  }

  private memberFile(name: string): string {
    return `${this.path}:${name}.npy`;
  }

  /** Inflate a deflated member, never past `limit` bytes of output. */
  private inflate(e: NpzEntry, compressed: Buffer, limit: number, partial: boolean): Buffer {
    try {
      return zlib.inflateRawSync(compressed, {
        maxOutputLength: Math.max(1, limit),
        ...(partial ? { finishFlush: zlib.constants.Z_SYNC_FLUSH } : {}),
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
        throw new FileFormatError(this.path, `entry ${e.name}.npy inflates past its declared ${e.size} bytes (a deflate bomb or a corrupt archive)`);
      }
      throw new FileFormatError(this.path, `entry ${e.name}.npy: corrupt deflate data (${(err as Error).message})`);
    }
  }

  /** Header of an array without reading its data (a compressed member: only the first few KiB are inflated). */
  header(name: string): NpyHeader {
    const e = this.entry(name);
    const start = this.dataStart(e);
    let head: Buffer;
    if (e.method === 0) {
      head = NpzFile.readAt(this.fd, Math.min(e.size, 64 * 1024), start, this.fileSize, this.path, `${name}.npy header`);
    } else {
      const prefix = NpzFile.readAt(this.fd, Math.min(e.compressedSize, 4096), start, this.fileSize, this.path, `${name}.npy header`);
      // Up to ~4 MiB from a 4 KiB prefix at most; the header is in the first bytes.
      head = this.inflate(e, prefix, Math.min(e.size, prefix.length * MAX_DEFLATE_RATIO), true);
    }
    const h = parseNpyHeader(head, this.memberFile(name));
    if (h.dataOffset + h.dataBytes > e.size) {
      throw new FileFormatError(
        this.memberFile(name),
        `header claims shape [${h.shape}] (${h.dataBytes} bytes of ${h.descr}) but the member holds ${Math.max(0, e.size - h.dataOffset)} bytes of data`,
      );
    }
    return h;
  }

  /** The member's bytes (npy header + data), after its header was checked against its size. */
  private memberBytes(name: string, h: NpyHeader): Buffer {
    const e = this.entry(name);
    const start = this.dataStart(e);
    const need = h.dataOffset + h.dataBytes;
    if (e.method === 0) return NpzFile.readAt(this.fd, need, start, this.fileSize, this.path, `${name}.npy`);
    if (e.size > this.maxInflated) {
      throw new FileFormatError(
        this.path,
        `entry ${name}.npy is deflate-compressed and inflates to ${(e.size / MiB).toFixed(0)} MiB, above the ${(this.maxInflated / MiB).toFixed(0)} MiB limit for compressed members; save it uncompressed (np.savez, not np.savez_compressed) so it is read by offset`,
      );
    }
    // Real float weights deflate by ~1.1:1; a large member inflating far beyond its compressed bytes is a
    // bomb (or a degenerate all-constant array) that would cost memory no file of that size justifies.
    if (e.size > BOMB_FLOOR_BYTES && e.size > e.compressedSize * MAX_LARGE_MEMBER_RATIO) {
      throw new FileFormatError(
        this.path,
        `entry ${name}.npy inflates ${e.compressedSize} bytes to ${(e.size / MiB).toFixed(0)} MiB (${Math.round(e.size / Math.max(1, e.compressedSize))}:1) — a deflate bomb or an all-constant array; refused (store real weights uncompressed with np.savez)`,
      );
    }
    const comp = NpzFile.readAt(this.fd, e.compressedSize, start, this.fileSize, this.path, `${name}.npy`);
    const out = this.inflate(e, comp, e.size, false);
    if (out.length < need) throw new FileFormatError(this.path, `entry ${name}.npy inflates to ${out.length} bytes, fewer than the ${need} its header needs (truncated)`);
    return out;
  }

  read(name: string): NdArray {
    const h = this.header(name);
    return parseNpy(this.memberBytes(name, h), this.memberFile(name));
  }

  /**
   * Read rows [r0, r1) of a stored (uncompressed), C-ordered 2-D (or N-D, by leading index) array
   * without reading the rest — used to stream wide SAE matrices. A compressed or Fortran-ordered member
   * falls back to a full (bounded) read.
   */
  readRows(name: string, r0: number, r1: number): NdArray {
    const e = this.entry(name);
    const h = this.header(name);
    const rows = h.shape[0] ?? 1;
    if (!Number.isInteger(r0) || !Number.isInteger(r1) || r0 < 0 || r1 < r0 || r1 > rows) {
      throw new FileFormatError(this.memberFile(name), `row range [${r0}, ${r1}) outside the array's ${rows} rows`);
    }
    const cols = elements(h.shape.slice(1));
    if (e.method !== 0 || h.fortranOrder) {
      const all = this.read(name);
      return { shape: [r1 - r0, ...all.shape.slice(1)], data: all.data.slice(r0 * cols, r1 * cols) };
    }
    const item = dtypeSize(h.descr, this.memberFile(name));
    const at = this.dataStart(e) + h.dataOffset + r0 * cols * item;
    const buf = NpzFile.readAt(this.fd, (r1 - r0) * cols * item, at, this.fileSize, this.path, `rows of ${name}.npy`);
    return { shape: [r1 - r0, ...h.shape.slice(1)], data: toFloat32(buf, h.descr, (r1 - r0) * cols, this.memberFile(name)) };
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
