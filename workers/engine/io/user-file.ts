/**
 * Bounded reading of files a user (or a downloaded model folder, or a colleague's pipeline) names.
 * Such a path may be `/dev/zero`, a FIFO, a directory or a 40 GB file mistaken for a suite: only
 * regular files are read (symlinks are followed — the HF cache is made of them — but the target must be
 * a regular file), and never more than a stated limit, checked on the open descriptor (no stat/open race)
 * and again while reading (a file that grows, or a /proc file that reports 0 bytes). Every error names the
 * file and what was wrong.
 */
import fs from 'node:fs';
import { FileFormatError } from '../errors.js';

const MiB = 1024 * 1024;

/** Default ceilings by kind of file; generous for real files, far below what would exhaust the process. */
export const FILE_LIMITS = {
  /** config.json, cfg.json, generation_config.json, SAE side files, project and run manifests. */
  config: 8 * MiB,
  /** tokenizer.json (Gemma 3's is 33 MB), tokenizer_config.json with long templates. */
  tokenizer: 128 * MiB,
  /** chat_template.jinja and other template text. */
  template: 1 * MiB,
  /** Prompt suites (WildJailbreak's train TSV is the largest public one). */
  suite: 512 * MiB,
  /** Pipeline and experiment files. */
  pipeline: 4 * MiB,
} as const;

export interface UserFileOptions {
  /** Largest accepted size in bytes. */
  maxBytes: number;
  /** What the file is, for the error ("prompt suite", "config.json"). */
  what?: string;
}

function human(n: number): string {
  return n >= MiB ? `${(n / MiB).toFixed(n % MiB === 0 ? 0 : 1)} MiB` : `${n} bytes`;
}

function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a pipe (FIFO)';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Open a user-named path for reading if it is a regular file within the limit; returns the descriptor
 * and its size. The caller closes the descriptor.
 */
export function openUserFile(file: string, opts: UserFileOptions): { fd: number; size: number } {
  const what = opts.what ?? 'file';
  // Refuse non-regular files before open(): opening a FIFO for reading blocks until a writer appears.
  let pre: fs.Stats;
  try {
    pre = fs.statSync(file);
  } catch (e) {
    throw new FileFormatError(file, `cannot read ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!pre.isFile()) throw new FileFormatError(file, `${what} must be a regular file, this is ${kindOf(pre)}`);
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new FileFormatError(file, `cannot open ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new FileFormatError(file, `${what} must be a regular file, this is ${kindOf(st)}`);
    if (st.size > opts.maxBytes) {
      throw new FileFormatError(file, `${what} is ${human(st.size)}, larger than the ${human(opts.maxBytes)} limit for this kind of file`);
    }
    return { fd, size: st.size };
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

/** The bytes of a user-named regular file, never more than `maxBytes`. */
export function readUserBytes(file: string, opts: UserFileOptions): Buffer {
  const { fd, size } = openUserFile(file, opts);
  try {
    // Read to EOF rather than trusting the size: the file may have grown, or report 0 bytes (/proc).
    const chunks: Buffer[] = [];
    let total = 0;
    let buf = Buffer.allocUnsafe(Math.max(1, Math.min(size + 1, opts.maxBytes + 1)));
    for (;;) {
      let got: number;
      try {
        got = fs.readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        throw new FileFormatError(file, `cannot read ${opts.what ?? 'file'} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      if (got === 0) break;
      total += got;
      if (total > opts.maxBytes) {
        throw new FileFormatError(file, `${opts.what ?? 'file'} is larger than the ${human(opts.maxBytes)} limit for this kind of file`);
      }
      chunks.push(got === buf.length ? buf : buf.subarray(0, got));
      buf = Buffer.allocUnsafe(Math.min(16 * MiB, opts.maxBytes + 1 - total));
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Decode text strictly: a UTF-8 BOM is dropped, UTF-16 (LE/BE, with BOM, as Windows editors save) is
 * decoded, anything else must be valid UTF-8 — mojibake is an error naming the byte, not silent U+FFFD.
 */
export function decodeUserText(bytes: Uint8Array, file: string, what = 'file'): string {
  let enc: 'utf-8' | 'utf-16le' | 'utf-16be' = 'utf-8';
  let start = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  else if (bytes[0] === 0xff && bytes[1] === 0xfe) [enc, start] = ['utf-16le', 2];
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) [enc, start] = ['utf-16be', 2];
  try {
    return new TextDecoder(enc, { fatal: true }).decode(bytes.subarray(start));
  } catch {
    // Find the first bad byte for the message (UTF-8 only; UTF-16 errors are odd-length or lone surrogates).
    let at = start;
    if (enc === 'utf-8') {
      // A streaming decode does not fail on a sequence cut at the end, so prefix validity is monotonic.
      let lo = start;
      let hi = bytes.length;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(start, mid), { stream: true });
          lo = mid;
        } catch {
          hi = mid;
        }
      }
      // The longest valid prefix may end inside the bad sequence's lead bytes: step back to its start.
      at = lo;
      let k = 0;
      while (at > start && k < 3 && (bytes[at - 1]! & 0xc0) === 0x80) [at, k] = [at - 1, k + 1];
      if (at > start && bytes[at - 1]! >= 0xc0) at--;
    }
    throw new FileFormatError(file, `${what} is not valid ${enc.toUpperCase()} text (bad byte sequence near byte ${at})`);
  }
}

export function readUserText(file: string, opts: UserFileOptions): string {
  return decodeUserText(readUserBytes(file, opts), file, opts.what);
}

/** Parse a user-named JSON file (bounded, strict text decoding). */
export function readUserJson(file: string, opts: UserFileOptions): unknown {
  const text = readUserText(file, opts);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FileFormatError(file, `${opts.what ?? 'file'} is not valid JSON (${(e as Error).message})`);
  }
}
