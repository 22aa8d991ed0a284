/** Seeded mutations of input files: truncations, bit flips, huge claims, odd encodings. */
export type Rand = () => number;

export const int = (r: Rand, n: number): number => Math.floor(r() * n);
export const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)]!;

export const HUGE_NUMBERS = ['1e6', '1e9', '1e12', '1e308', '-1', '0', '4294967296', '9007199254740993', '-0.5', '3.5', '1e-300'];

export function truncate(r: Rand, b: Buffer): Buffer {
  return b.subarray(0, int(r, Math.max(1, b.length)));
}

export function bitFlips(r: Rand, b: Buffer, n = 1 + int(r, 8), region = b.length): Buffer {
  const out = Buffer.from(b);
  for (let i = 0; i < n && out.length; i++) {
    const at = int(r, Math.max(1, Math.min(region, out.length)));
    out[at] = out[at]! ^ (1 << int(r, 8));
  }
  return out;
}

export function spliceBytes(r: Rand, b: Buffer): Buffer {
  const at = int(r, b.length + 1);
  const junk = Buffer.from(Array.from({ length: 1 + int(r, 16) }, () => int(r, 256)));
  return r() < 0.5 ? Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]) : Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(r, 64)))]);
}

/** Re-encode text oddly: UTF-16 with BOM, a UTF-8 BOM, invalid UTF-8 bytes, NULs, CR-only line ends. */
export function oddEncoding(r: Rand, text: string): Buffer {
  switch (int(r, 6)) {
    case 0:
      return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    case 1:
      return Buffer.from('\ufeff' + text, 'utf8');
    case 2: {
      const b = Buffer.from(text, 'utf8');
      const at = int(r, b.length + 1);
      return Buffer.concat([b.subarray(0, at), Buffer.from([pick(r, [0xc3, 0xff, 0x80, 0xed])]), b.subarray(at)]);
    }
    case 3:
      return Buffer.from(text.replace(/\n/g, '\r'), 'utf8');
    case 4:
      return Buffer.from(text.replace(/ /g, '\u0000'), 'utf8');
    default:
      return Buffer.from(text, 'latin1'); // é etc. become single invalid bytes
  }
}

/** Replace one number in JSON text by a huge / negative / fractional one. */
export function hugeNumber(r: Rand, text: string): string {
  const nums = [...text.matchAll(/-?\d+(\.\d+)?([eE][-+]?\d+)?/g)];
  if (!nums.length) return text;
  const m = pick(r, nums);
  return text.slice(0, m.index) + pick(r, HUGE_NUMBERS) + text.slice(m.index! + m[0].length);
}

/** Replace a JSON value of a random key by a value of the wrong type (or delete the key). */
export function wrongType(r: Rand, text: string): string {
  const keys = [...text.matchAll(/"([A-Za-z_][\w.]*)"\s*:/g)];
  if (!keys.length) return text;
  const k = pick(r, keys);
  const start = k.index! + k[0].length;
  // Find the end of the value (best effort: up to the next comma/brace at the same depth).
  let depth = 0;
  let i = start;
  let inStr = false;
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') inStr = true;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') {
      if (depth === 0) break;
      depth--;
    } else if (c === ',' && depth === 0) break;
  }
  const value = pick(r, ['null', 'true', '"x"', '[]', '{}', '[1e9,1e9]', '{"a":[[[[]]]]}', '"' + 'A'.repeat(10_000) + '"', ...HUGE_NUMBERS]);
  return text.slice(0, start) + value + text.slice(i);
}

export function deepNesting(r: Rand): string {
  const n = pick(r, [1_000, 10_000, 100_000]);
  return '['.repeat(n) + ']'.repeat(n);
}

/** One generic mutation of a text file. */
export function mutateText(r: Rand, text: string): Buffer {
  switch (int(r, 7)) {
    case 0:
      return truncate(r, Buffer.from(text));
    case 1:
      return bitFlips(r, Buffer.from(text));
    case 2:
      return Buffer.from(hugeNumber(r, text));
    case 3:
      return Buffer.from(wrongType(r, text));
    case 4:
      return oddEncoding(r, text);
    case 5:
      return spliceBytes(r, Buffer.from(text));
    default:
      return Buffer.from(r() < 0.5 ? deepNesting(r) : text.repeat(1 + int(r, 50)));
  }
}

/** One generic mutation of a binary file whose header spans the first `headerBytes`. */
export function mutateBinary(r: Rand, b: Buffer, headerBytes: number): Buffer {
  switch (int(r, 4)) {
    case 0:
      return truncate(r, b);
    case 1:
      return bitFlips(r, b, 1 + int(r, 4), headerBytes);
    case 2:
      return bitFlips(r, b);
    default:
      return spliceBytes(r, b);
  }
}
