/**
 * Raw access to SAE weight files without loading them: shapes from headers only, row-range reads of
 * 2-D matrices (positioned reads, so one SAE layer or one slice of it is ever in memory), and the
 * "logical" views every format maps to (W_enc [dIn, dSae], W_dec [dSae, dIn], possibly stored
 * transposed, with a scalar fold factor applied on read).
 */
import fs from 'node:fs';
import { FileFormatError } from '../engine/errors.js';
import { NpzFile } from '../engine/io/npy.js';
import { SafetensorsFile, toFloat32, type SafetensorsDtype } from '../engine/io/safetensors.js';
import { roundToDtype, type SaeDtype } from './saelens-config.js';

/** One stored array, readable by row ranges. */
export interface RawArray {
  readonly file: string;
  readonly name: string;
  readonly shape: number[];
  /** Whether row-range reads are cheap positioned reads (else each one reads the whole array). */
  readonly rowReads: boolean;
  /** Row range [r0, r1) of a 2-D array (or elements of a 1-D one), as float32, C order. */
  readRows(r0: number, r1: number): Float32Array;
  readAll(): Float32Array;
}

/** An opened weight container (npz or safetensors). */
export interface RawContainer {
  readonly file: string;
  names(): string[];
  has(name: string): boolean;
  get(name: string): RawArray;
  /** Bytes of the stored file. */
  fileBytes(): number;
  close(): void;
}

export function openNpzContainer(path: string): RawContainer {
  const npz = NpzFile.open(path);
  const size = fs.statSync(path).size;
  return {
    file: path,
    names: () => npz.names(),
    has: (n) => npz.has(n),
    fileBytes: () => size,
    get(name) {
      const h = npz.header(name);
      const e = npz.entries.get(name);
      return {
        file: path,
        name,
        shape: h.shape,
        rowReads: !!e && e.method === 0 && !h.fortranOrder && h.descr === '<f4' && h.shape.length === 2,
        readRows: (r0, r1) => {
          if (h.shape.length <= 1) return npz.read(name).data.slice(r0, r1);
          return npz.readRows(name, r0, r1).data;
        },
        readAll: () => npz.read(name).data,
      };
    },
    close: () => npz.close(),
  };
}

const DT_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };

export function openSafetensorsContainer(path: string): RawContainer {
  const st = SafetensorsFile.open(path);
  const size = fs.statSync(path).size;
  let fd = -1;
  const readRange = (begin: number, len: number): Buffer => {
    if (fd < 0) fd = fs.openSync(path, 'r');
    const buf = Buffer.alloc(len);
    const got = fs.readSync(fd, buf, 0, len, begin);
    if (got !== len) throw new FileFormatError(path, `short read at byte ${begin} (truncated)`);
    return buf;
  };
  return {
    file: path,
    names: () => [...st.tensors.keys()],
    has: (n) => st.has(n),
    fileBytes: () => size,
    get(name) {
      const info = st.info(name);
      const eb = DT_BYTES[info.dtype];
      if (!eb) throw new FileFormatError(path, `tensor "${name}" is ${info.dtype}, expected a float dtype`);
      const cols = info.shape.length <= 1 ? 1 : info.shape.slice(1).reduce((a, x) => a * x, 1);
      return {
        file: path,
        name,
        shape: info.shape,
        rowReads: true,
        readRows: (r0, r1) => toFloat32(readRange(info.begin + r0 * cols * eb, (r1 - r0) * cols * eb), info.dtype as SafetensorsDtype),
        readAll: () => st.readFloat32(name),
      };
    },
    close: () => {
      st.close();
      if (fd >= 0) fs.closeSync(fd);
      fd = -1;
    },
  };
}

/** Per-element work done on every read of a logical matrix, in SAELens's order: dtype cast, then folds. */
export interface MatrixFold {
  /** Round the stored values to this dtype first (SAELens casts the state dict to cfg.dtype). */
  round?: SaeDtype;
  /** Logical row r multiplied by rowScale()[r]. */
  rowScale?: () => Float32Array;
  /** Logical column c multiplied by colScale()[c]. */
  colScale?: () => Float32Array;
}

/**
 * A logical 2-D matrix [rows, cols] backed by a stored array that is either the same ([rows, cols]) or
 * its transpose ([cols, rows]), every value multiplied by `scale` (and the optional per-row/column
 * factors of `fold`) on read.
 */
export class LogicalMatrix {
  constructor(
    readonly raw: RawArray,
    readonly transposed: boolean,
    readonly scale: number = 1,
    readonly fold: MatrixFold = {},
  ) {}

  get rows(): number {
    return this.transposed ? this.raw.shape[1]! : this.raw.shape[0]!;
  }

  get cols(): number {
    return this.transposed ? this.raw.shape[0]! : this.raw.shape[1]!;
  }

  /** Cast and fold a logical block whose rows are `rowIdx` (null: all) and columns `colIdx` (null: all). */
  private finish(a: Float32Array, rowIdx: number[] | null, colIdx: number[] | null): Float32Array {
    const { round, rowScale, colScale } = this.fold;
    if (round) roundToDtype(a, round);
    const nc = colIdx ? colIdx.length : this.cols;
    const nr = a.length / Math.max(1, nc);
    const s = Math.fround(this.scale);
    const rs = rowScale?.();
    const cs = colScale?.();
    if (!rs && !cs) {
      if (this.scale !== 1) for (let i = 0; i < a.length; i++) a[i] = a[i]! * s;
      return a;
    }
    const cf = new Float32Array(nc);
    for (let j = 0; j < nc; j++) cf[j] = s * (cs ? cs[colIdx ? colIdx[j]! : j]! : 1);
    for (let r = 0; r < nr; r++) {
      const rf = rs ? rs[rowIdx ? rowIdx[r]! : r]! : 1;
      for (let j = 0, b = r * nc; j < nc; j++) a[b + j] = a[b + j]! * cf[j]! * rf;
    }
    return a;
  }

  /** The whole matrix, [rows, cols] C order; read in row chunks so the peak is one copy plus a chunk. */
  readAll(): Float32Array {
    const sR = this.raw.shape[0]!;
    const sC = this.raw.shape[1]!;
    if (!this.raw.rowReads) {
      const a = this.raw.readAll();
      return this.finish(this.transposed ? transpose(a, sR, sC) : a, null, null);
    }
    const out = new Float32Array(sR * sC);
    const chunk = Math.max(1, Math.floor((32 << 20) / 4 / Math.max(1, sC)));
    for (let r0 = 0; r0 < sR; r0 += chunk) {
      const r1 = Math.min(sR, r0 + chunk);
      const block = this.raw.readRows(r0, r1);
      if (!this.transposed) out.set(block, r0 * sC);
      else for (let r = r0; r < r1; r++) for (let c = 0, b = (r - r0) * sC; c < sC; c++) out[c * sR + r] = block[b + c]!;
    }
    return this.finish(out, null, null);
  }

  /** Rows [r0, r1). Chunked reads when transposed so memory stays ~ the slice. */
  readRows(r0: number, r1: number): Float32Array {
    const rows = range(r0, r1);
    if (!this.transposed) return this.finish(this.raw.readRows(r0, r1), rows, null);
    return this.finish(this.readColumnsOf(true, rows), rows, null);
  }

  /** Columns [c0, c1), [rows, c1 − c0] C order (one contiguous read when stored transposed). */
  readColumnRange(c0: number, c1: number): Float32Array {
    const cols = range(c0, c1);
    if (!this.transposed) return this.finish(this.readColumnsOf(false, cols), null, cols);
    return this.finish(transpose(this.raw.readRows(c0, c1), c1 - c0, this.rows), null, cols);
  }

  /** Selected columns, [rows, idx.length] C order. */
  readColumns(idx: number[]): Float32Array {
    if (this.transposed) {
      // Stored rows are our columns.
      const rows = this.rows;
      const out = new Float32Array(rows * idx.length);
      idx.forEach((c, j) => {
        const col = this.raw.readRows(c, c + 1);
        for (let r = 0; r < rows; r++) out[r * idx.length + j] = col[r]!;
      });
      return this.finish(out, null, idx);
    }
    return this.finish(this.readColumnsOf(false, idx), null, idx);
  }

  /**
   * Columns `idx` of the stored (non-transposed view) array, streamed in row chunks, unscaled.
   * When `asRows` is true the result is laid out [idx.length, storedRows] (i.e. rows of our transposed view).
   */
  private readColumnsOf(asRows: boolean, idx: number[]): Float32Array {
    const sRows = this.raw.shape[0]!;
    const sCols = this.raw.shape[1]!;
    const out = new Float32Array(sRows * idx.length);
    const chunk = Math.max(1, Math.floor((16 << 20) / 4 / Math.max(1, sCols)));
    for (let r0 = 0; r0 < sRows; r0 += chunk) {
      const r1 = Math.min(sRows, r0 + chunk);
      const block = this.raw.readRows(r0, r1);
      for (let r = r0; r < r1; r++) {
        const base = (r - r0) * sCols;
        for (let j = 0; j < idx.length; j++) {
          const v = block[base + idx[j]!]!;
          if (asRows) out[j * sRows + r] = v;
          else out[r * idx.length + j] = v;
        }
      }
    }
    return out;
  }

  /** ‖row r‖₂ of the logical (cast and folded) matrix for every row, streamed in row chunks. */
  rowNorms(): Float32Array {
    const n = new Float32Array(this.rows);
    const chunk = Math.max(1, Math.floor((16 << 20) / 4 / Math.max(1, this.cols)));
    for (let r0 = 0; r0 < this.rows; r0 += chunk) {
      const r1 = Math.min(this.rows, r0 + chunk);
      const block = this.readRows(r0, r1);
      for (let r = r0; r < r1; r++) {
        let s = 0;
        for (let c = 0, b = (r - r0) * this.cols; c < this.cols; c++) s += block[b + c]! * block[b + c]!;
        n[r] = Math.sqrt(s);
      }
    }
    return n;
  }
}

export function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  return out;
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}
