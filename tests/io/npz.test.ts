/**
 * The npz reader on untrusted archives: zip64 (Gemma Scope width_262k/1m files exceed 4 GiB), members read
 * by offset, sizes checked against the bytes present before anything is allocated, inflation bounded.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NpzFile, npyBytes, readNpy, writeNpz } from '../../workers/engine/io/npy.js';
import { openSae } from '../../workers/sae/load.js';
import { writeSparseZip64Npz } from '../helpers/zip64.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-npz-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A one-member stored or deflated zip with the given npy bytes and (possibly lying) declared size. */
function zipOf(name: string, body: Buffer, opts: { deflate?: boolean; declaredSize?: number } = {}): Buffer {
  const data = opts.deflate ? zlib.deflateRawSync(body) : body;
  const size = opts.declaredSize ?? body.length;
  const fname = Buffer.from(`${name}.npy`);
  const lh = Buffer.alloc(30);
  lh.writeUInt32LE(0x04034b50, 0);
  lh.writeUInt16LE(opts.deflate ? 8 : 0, 8);
  lh.writeUInt32LE(data.length, 18);
  lh.writeUInt32LE(size, 22);
  lh.writeUInt16LE(fname.length, 26);
  const ch = Buffer.alloc(46);
  ch.writeUInt32LE(0x02014b50, 0);
  ch.writeUInt16LE(opts.deflate ? 8 : 0, 10);
  ch.writeUInt32LE(data.length, 20);
  ch.writeUInt32LE(size, 24);
  ch.writeUInt16LE(fname.length, 28);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(1, 8);
  eocd.writeUInt16LE(1, 10);
  eocd.writeUInt32LE(46 + fname.length, 12);
  eocd.writeUInt32LE(30 + fname.length + data.length, 16);
  return Buffer.concat([lh, fname, data, ch, fname, eocd]);
}

/** npy bytes whose header claims `shape` (float32) followed by `dataBytes` bytes. */
function lyingNpy(shape: number[], dataBytes: number): Buffer {
  const head = npyBytes(shape, new Float32Array(0));
  return Buffer.concat([head, Buffer.alloc(dataBytes)]);
}

describe('npz reader: zip64 and reads by offset', () => {
  it('opens a zip64 params.npz over 4 GiB (sparse) and reads decoder rows beyond 4 GiB by offset', () => {
    if (process.platform === 'win32') return; // NTFS does not make this file sparse: it would write 10 GB.
    const dIn = 2304;
    const dSae = 524_288; // W_enc and W_dec are 4.8 GB each
    const file = path.join(dir, 'params.npz');
    try {
      writeSparseZip64Npz(file, [
        { name: 'W_enc', shape: [dIn, dSae], values: [[dIn * dSae - 1, 0.5]] },
        { name: 'W_dec', shape: [dSae, dIn], values: [[(dSae - 1) * dIn, 1.25], [(dSae - 1) * dIn + dIn - 1, -3]] },
        { name: 'b_enc', shape: [dSae] },
        { name: 'b_dec', shape: [dIn], values: [[7, 2]] },
        { name: 'threshold', shape: [dSae], values: [[dSae - 1, 0.75]] },
      ]);
      const st = fs.statSync(file);
      expect(st.size).toBeGreaterThan(2 * 2 ** 32);
      // The test writes a few KiB, not gigabytes (st.blocks counts 512-byte units actually allocated).
      expect(st.blocks * 512).toBeLessThan(16 * 1024 * 1024);

      const npz = NpzFile.open(file);
      try {
        expect(npz.names().sort()).toEqual(['W_dec', 'W_enc', 'b_dec', 'b_enc', 'threshold']);
        expect(npz.header('W_dec').shape).toEqual([dSae, dIn]);
        expect(npz.entries.get('threshold')!.localHeaderOffset).toBeGreaterThan(2 ** 32);
        const last = npz.readRows('W_dec', dSae - 1, dSae);
        expect(last.shape).toEqual([1, dIn]);
        expect(last.data[0]).toBe(1.25);
        expect(last.data[dIn - 1]).toBe(-3);
        expect(npz.read('b_dec').data[7]).toBe(2);
        expect(npz.readRows('threshold', dSae - 1, dSae).data[0]).toBe(0.75);
      } finally {
        npz.close();
      }

      // And through the SAE loader: opened from headers, decoder rows streamed from past 4 GiB.
      const sae = openSae(file, { format: 'gemmascope', layer: 20 });
      try {
        expect(sae.meta.dIn).toBe(dIn);
        expect(sae.meta.dSae).toBe(dSae);
        const rows = sae.readDecoderRows(dSae - 2, dSae);
        expect(rows.length).toBe(2 * dIn);
        expect(rows[dIn]).toBe(1.25);
      } finally {
        sae.close();
      }
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it('reads stored rows of any dtype by offset and refuses rows outside the array', () => {
    const file = path.join(dir, 'rows.npz');
    const a = new Float32Array(12).map((_, i) => i);
    writeNpz(file, { m: { shape: [4, 3], data: a } });
    const npz = NpzFile.open(file);
    try {
      expect([...npz.readRows('m', 1, 3).data]).toEqual([3, 4, 5, 6, 7, 8]);
      expect(() => npz.readRows('m', 2, 5)).toThrow(/row range \[2, 5\) outside the array's 4 rows/);
      expect(() => npz.readRows('m', -1, 1)).toThrow(/outside/);
    } finally {
      npz.close();
    }
  });
});

describe('npz reader: sizes are checked against the bytes present before allocating', () => {
  it('a header claiming d_sae 4,000,000 over 64 bytes of data is refused before reading (finding: 641 MiB allocated)', () => {
    const file = path.join(dir, 'claim.npz');
    fs.writeFileSync(file, zipOf('W_dec', lyingNpy([4_000_000, 2304], 64)));
    const npz = NpzFile.open(file);
    try {
      const before = process.memoryUsage().arrayBuffers;
      expect(() => npz.read('W_dec')).toThrow(/claims shape \[4000000,2304\] .* but the member holds 64 bytes/);
      expect(() => npz.readRows('W_dec', 0, 10)).toThrow(/claims shape/);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * 1024 * 1024);
    } finally {
      npz.close();
    }
  });

  it('the same claim in a deflated member is refused from the first inflated KiB', () => {
    const file = path.join(dir, 'claim-deflate.npz');
    fs.writeFileSync(file, zipOf('W_dec', lyingNpy([4_000_000, 2304], 64), { deflate: true }));
    const npz = NpzFile.open(file);
    try {
      expect(() => npz.read('W_dec')).toThrow(/claims shape \[4000000,2304\]/);
    } finally {
      npz.close();
    }
  });

  it('a deflate bomb of all-zero d_sae 1,000,000 arrays is refused without inflating it (finding: hang)', () => {
    const dSae = 1_000_000;
    // Declared honestly as 2304 × 1,000,000 float32 (9.2 GB) over ~290 KB of deflate: no deflate stream
    // can produce that, so it is refused from the directory, before a byte is inflated.
    const head = npyBytes([2304, dSae], new Float32Array(0));
    const comp = zlib.deflateRawSync(Buffer.concat([head, Buffer.alloc(64 << 20)]), { level: 1 });
    const file = path.join(dir, 'bomb.npz');
    fs.writeFileSync(file, zipRaw('W_enc', comp, head.length + 2304 * dSae * 4));
    expect(() => NpzFile.open(file)).toThrow(/claims to inflate \d+ bytes to 9216000\d+, beyond what deflate can produce/);

    // A real (consistent) bomb, 16 × 1,000,000 zeros = 64 MB from ~62 KB: refused from its ratio, before
    // inflating (and above the inflation limit whatever its ratio).
    const head2 = npyBytes([16, dSae], new Float32Array(0));
    const body = Buffer.concat([head2, Buffer.alloc(16 * dSae * 4)]);
    const file2 = path.join(dir, 'bomb2.npz');
    fs.writeFileSync(file2, zipRaw('W_enc', zlib.deflateRawSync(body, { level: 1 }), body.length));
    const small = NpzFile.open(file2, { maxInflatedBytes: 16 << 20 });
    try {
      expect(small.header('W_enc').shape).toEqual([16, dSae]);
      expect(() => small.read('W_enc')).toThrow(/deflate-compressed and inflates to 61 MiB, above the 16 MiB limit for compressed members; save it uncompressed/);
    } finally {
      small.close();
    }
    const dflt = NpzFile.open(file2);
    try {
      expect(() => dflt.read('W_enc')).toThrow(/inflates \d+ bytes to 61 MiB \(\d+:1\) — a deflate bomb/);
    } finally {
      dflt.close();
    }
    // Real (incompressible) data of that size deflated is read.
    const noise = new Float32Array(4 << 20).map((_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
    const body3 = npyBytes([4, 1 << 20], noise);
    const file3 = path.join(dir, 'noise.npz');
    fs.writeFileSync(file3, zipRaw('W_enc', zlib.deflateRawSync(body3, { level: 1 }), body3.length));
    const ok = NpzFile.open(file3);
    try {
      const a = ok.read('W_enc');
      expect(a.shape).toEqual([4, 1 << 20]);
      expect(a.data[12345]).toBe(noise[12345]);
    } finally {
      ok.close();
    }
  });

  it('a 500,000-wide all-zero Gemma Scope bomb is refused by the SAE loader, not loaded at 797 MiB (finding)', () => {
    const dIn = 64;
    const w = 500_000;
    const file = path.join(dir, 'wide.npz');
    const member = (name: string, shape: number[]) => {
      const body = Buffer.concat([npyBytes(shape, new Float32Array(0)), Buffer.alloc(4 * shape.reduce((a, x) => a * x, 1))]);
      return { name, comp: zlib.deflateRawSync(body, { level: 1 }), size: body.length };
    };
    const members = [member('W_enc', [dIn, w]), member('W_dec', [w, dIn]), member('b_enc', [w]), member('b_dec', [dIn]), member('threshold', [w])];
    fs.writeFileSync(file, zipMany(members));
    expect(fs.statSync(file).size).toBeLessThan(2 << 20);
    const before = process.memoryUsage().rss;
    const sae = openSae(file, { format: 'gemmascope', layer: 3 });
    try {
      expect(sae.meta.dSae).toBe(w);
      expect(() => sae.load()).toThrow(/W_(enc|dec)\.npy inflates \d+ bytes to 122 MiB .* a deflate bomb/);
    } finally {
      sae.close();
    }
    expect(process.memoryUsage().rss - before).toBeLessThan(64 << 20);
  });

  it('a member that inflates past its declared size is stopped at the declared size', () => {
    const file = path.join(dir, 'liar.npz');
    const body = npyBytes([1000], new Float32Array(1000));
    fs.writeFileSync(file, zipOf('x', Buffer.concat([body, Buffer.alloc(1 << 20)]), { deflate: true, declaredSize: body.length }));
    const npz = NpzFile.open(file);
    try {
      expect(() => npz.read('x')).toThrow(/inflates past its declared \d+ bytes/);
    } finally {
      npz.close();
    }
  });

  it('a declared size beyond what deflate can produce is refused at open', () => {
    const file = path.join(dir, 'ratio.npz');
    fs.writeFileSync(file, zipOf('x', npyBytes([4], new Float32Array(4)), { deflate: true, declaredSize: 0xfffffff0 }));
    expect(() => NpzFile.open(file)).toThrow(/beyond what deflate can produce/);
  });

  it('a truncated archive, a bad central directory and odd dtypes are clear errors', () => {
    const good = path.join(dir, 'good.npz');
    writeNpz(good, { a: { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } });
    const bytes = fs.readFileSync(good);
    const t = path.join(dir, 'trunc.npz');
    fs.writeFileSync(t, bytes.subarray(0, bytes.length - 30));
    expect(() => NpzFile.open(t)).toThrow(/no end-of-central-directory|truncated|past the end/);
    const flipped = Buffer.from(bytes);
    flipped.writeUInt32LE(0xffff0000, flipped.length - 6); // central directory offset
    fs.writeFileSync(t, flipped);
    expect(() => NpzFile.open(t)).toThrow(/past the end|zip64/);
    const odd = path.join(dir, 'odd.npz');
    const npy = npyBytes([2], new Float32Array(2));
    const text = npy.toString('latin1').replace("'<f4'", "'<c8'");
    fs.writeFileSync(odd, zipOf('z', Buffer.from(text, 'latin1')));
    const npz = NpzFile.open(odd);
    try {
      expect(() => npz.read('z')).toThrow(/unsupported .npy dtype "<c8"/);
    } finally {
      npz.close();
    }
  });

  it('readNpy refuses a .npy whose header outruns the file, and non-regular files', () => {
    const f = path.join(dir, 'short.npy');
    fs.writeFileSync(f, lyingNpy([4_000_000, 2304], 64));
    expect(() => readNpy(f)).toThrow(/claims shape \[4000000,2304\].*holds 64 bytes/);
    expect(() => readNpy(dir)).toThrow(/must be a regular file, this is a directory/);
    if (fs.existsSync('/dev/zero')) expect(() => readNpy('/dev/zero')).toThrow(/must be a regular file, this is a character device/);
  });
});

/** A one-member deflated zip from raw compressed bytes and a declared size (for bombs). */
function zipRaw(name: string, comp: Buffer, size: number): Buffer {
  const fname = Buffer.from(`${name}.npy`);
  const zip64 = size >= 0xffffffff;
  const lh = Buffer.alloc(30);
  lh.writeUInt32LE(0x04034b50, 0);
  lh.writeUInt16LE(8, 8);
  lh.writeUInt32LE(comp.length, 18);
  lh.writeUInt32LE(zip64 ? 0xffffffff : size, 22);
  lh.writeUInt16LE(fname.length, 26);
  const extra = Buffer.alloc(zip64 ? 12 : 0);
  if (zip64) {
    extra.writeUInt16LE(1, 0);
    extra.writeUInt16LE(8, 2);
    extra.writeBigUInt64LE(BigInt(size), 4);
  }
  const ch = Buffer.alloc(46);
  ch.writeUInt32LE(0x02014b50, 0);
  ch.writeUInt16LE(8, 10);
  ch.writeUInt32LE(comp.length, 20);
  ch.writeUInt32LE(zip64 ? 0xffffffff : size, 24);
  ch.writeUInt16LE(fname.length, 28);
  ch.writeUInt16LE(extra.length, 30);
  const cd = Buffer.concat([ch, fname, extra]);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(1, 8);
  eocd.writeUInt16LE(1, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(30 + fname.length + comp.length, 16);
  return Buffer.concat([lh, fname, comp, cd, eocd]);
}

describe('safetensors headers from untrusted files (minimal fixes in the #18-owned reader)', () => {
  it('null entries, non-object headers, negative offsets and odd shapes are clear errors', async () => {
    const { SafetensorsFile } = await import('../../workers/engine/io/safetensors.js');
    const write = (header: string, data = Buffer.alloc(16)): string => {
      const f = path.join(dir, `h${Math.random().toString(36).slice(2)}.safetensors`);
      const h = Buffer.from(header);
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(h.length));
      fs.writeFileSync(f, Buffer.concat([len, h, data]));
      return f;
    };
    expect(() => SafetensorsFile.open(write('null'))).toThrow(/header is not a JSON object/);
    expect(() => SafetensorsFile.open(write('[1]'))).toThrow(/header is not a JSON object/);
    expect(() => SafetensorsFile.open(write('{"a":null}'))).toThrow(/tensor "a" has no header entry object/);
    expect(() => SafetensorsFile.open(write('{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}'))).toThrow(/data_offsets \[-8, 0\] do not match/);
    expect(() => SafetensorsFile.open(write('{"a":{"dtype":"F32","shape":[-1,-4],"data_offsets":[0,16]}}'))).toThrow(/invalid shape \[-1,-4\]/);
    expect(() => SafetensorsFile.open(write('{"a":{"dtype":"F32","shape":"x","data_offsets":[0,16]}}'))).toThrow(/invalid shape "x"/);
  });
});

/** A deflated multi-member zip from raw compressed bytes and declared sizes. */
function zipMany(members: Array<{ name: string; comp: Buffer; size: number }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let off = 0;
  for (const m of members) {
    const fname = Buffer.from(`${m.name}.npy`);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(8, 8);
    lh.writeUInt32LE(m.comp.length, 18);
    lh.writeUInt32LE(m.size, 22);
    lh.writeUInt16LE(fname.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(8, 10);
    ch.writeUInt32LE(m.comp.length, 20);
    ch.writeUInt32LE(m.size, 24);
    ch.writeUInt16LE(fname.length, 28);
    ch.writeUInt32LE(off, 42);
    locals.push(lh, fname, m.comp);
    centrals.push(ch, fname);
    off += 30 + fname.length + m.comp.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(members.length, 8);
  eocd.writeUInt16LE(members.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(off, 16);
  return Buffer.concat([...locals, cd, eocd]);
}
