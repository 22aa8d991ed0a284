/**
 * Writes a zip64 .npz the way numpy does for members over 4 GiB (zip64 extra fields in the local and
 * central headers, zip64 end-of-central-directory record + locator), with every member's data left as a
 * hole: the file is sparse, so a 4.6 GB archive costs a few KiB of disk. Only the bytes given in `writes`
 * (absolute offsets into each member's data) are written.
 */
import fs from 'node:fs';
import { npyBytes } from '../../workers/engine/io/npy.js';

export interface SparseMember {
  name: string;
  shape: number[];
  /** Float32 values to write at element indices (C order) of the data; the rest reads as zeros. */
  values?: Array<[index: number, value: number]>;
}

const U32 = 0xffffffff;

/** npy header bytes (magic … padding) for a float32 C-ordered array of `shape`. */
function npyHeader(shape: number[]): Buffer {
  // npyBytes with an empty data view gives exactly the header: the shape string does not depend on data.
  return npyBytes(shape, new Float32Array(0));
}

/** Write the archive; returns the member data offsets (absolute, where element 0 of each array lies). */
export function writeSparseZip64Npz(file: string, members: SparseMember[]): Map<string, number> {
  const fd = fs.openSync(file, 'w');
  const dataAt = new Map<string, number>();
  const centrals: Buffer[] = [];
  let offset = 0;
  try {
    for (const m of members) {
      const header = npyHeader(m.shape);
      const size = header.length + 4 * m.shape.reduce((a, x) => a * x, 1);
      const fname = Buffer.from(`${m.name}.npy`);
      // Local header, always with a zip64 extra (numpy's zipfile does this when force_zip64 / large).
      const lh = Buffer.alloc(30 + fname.length + 20);
      lh.writeUInt32LE(0x04034b50, 0);
      lh.writeUInt16LE(45, 4);
      lh.writeUInt32LE(U32, 18);
      lh.writeUInt32LE(U32, 22);
      lh.writeUInt16LE(fname.length, 26);
      lh.writeUInt16LE(20, 28);
      fname.copy(lh, 30);
      lh.writeUInt16LE(0x0001, 30 + fname.length);
      lh.writeUInt16LE(16, 32 + fname.length);
      lh.writeBigUInt64LE(BigInt(size), 34 + fname.length);
      lh.writeBigUInt64LE(BigInt(size), 42 + fname.length);
      fs.writeSync(fd, lh, 0, lh.length, offset);
      const data = offset + lh.length;
      fs.writeSync(fd, header, 0, header.length, data);
      dataAt.set(m.name, data + header.length);
      for (const [i, v] of m.values ?? []) {
        const b = Buffer.alloc(4);
        b.writeFloatLE(v, 0);
        fs.writeSync(fd, b, 0, 4, data + header.length + 4 * i);
      }
      // Central header: zip64 extra with uncompressed, compressed and offset (all three marked 0xffffffff).
      const ch = Buffer.alloc(46 + fname.length + 28);
      ch.writeUInt32LE(0x02014b50, 0);
      ch.writeUInt16LE(45, 4);
      ch.writeUInt16LE(45, 6);
      ch.writeUInt32LE(U32, 20);
      ch.writeUInt32LE(U32, 24);
      ch.writeUInt16LE(fname.length, 28);
      ch.writeUInt16LE(28, 30);
      ch.writeUInt32LE(U32, 42);
      fname.copy(ch, 46);
      const x = 46 + fname.length;
      ch.writeUInt16LE(0x0001, x);
      ch.writeUInt16LE(24, x + 2);
      ch.writeBigUInt64LE(BigInt(size), x + 4);
      ch.writeBigUInt64LE(BigInt(size), x + 12);
      ch.writeBigUInt64LE(BigInt(offset), x + 20);
      centrals.push(ch);
      offset = data + size;
    }
    const cd = Buffer.concat(centrals);
    const cdOffset = offset;
    fs.writeSync(fd, cd, 0, cd.length, cdOffset);
    const eocd64At = cdOffset + cd.length;
    const rec = Buffer.alloc(56);
    rec.writeUInt32LE(0x06064b50, 0);
    rec.writeBigUInt64LE(44n, 4);
    rec.writeUInt16LE(45, 12);
    rec.writeUInt16LE(45, 14);
    rec.writeBigUInt64LE(BigInt(members.length), 24);
    rec.writeBigUInt64LE(BigInt(members.length), 32);
    rec.writeBigUInt64LE(BigInt(cd.length), 40);
    rec.writeBigUInt64LE(BigInt(cdOffset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(eocd64At), 8);
    loc.writeUInt32LE(1, 16);
    const eocd = Buffer.alloc(22);
    eocd.writeUInt32LE(0x06054b50, 0);
    eocd.writeUInt16LE(0xffff, 8);
    eocd.writeUInt16LE(0xffff, 10);
    eocd.writeUInt32LE(U32, 12);
    eocd.writeUInt32LE(U32, 16);
    const tail = Buffer.concat([rec, loc, eocd]);
    fs.writeSync(fd, tail, 0, tail.length, eocd64At);
  } finally {
    fs.closeSync(fd);
  }
  return dataAt;
}
