/**
 * RFC-4180 delimited-text parser (CSV and TSV): quoted fields, doubled quotes, quoted delimiters and
 * newlines, CRLF or LF line ends, optional BOM. Every record carries the 1-based line on which it starts
 * so that import errors can name it. Browser-safe (no node imports).
 */
import { SuiteImportError } from './errors.js';

export interface DelimitedRecord {
  /** 1-based line number of the record's first character. */
  line: number;
  fields: string[];
}

export interface ParseDelimitedOptions {
  /** Field separator, default ','. */
  delimiter?: string;
  /**
   * Strict (default): a quote inside an unquoted field, or text after a closing quote, is an error.
   * Lenient: such quotes are kept as literal characters (what most spreadsheet tools do).
   */
  strictQuotes?: boolean;
}

/** Parses delimited text into records. Blank lines (outside quotes) are skipped. */
export function parseDelimited(text: string, opts: ParseDelimitedOptions = {}): DelimitedRecord[] {
  const delim = opts.delimiter ?? ',';
  if (delim.length !== 1 || delim === '"' || delim === '\n' || delim === '\r') {
    throw new Error(`parseDelimited: bad delimiter ${JSON.stringify(delim)}`);
  }
  const strict = opts.strictQuotes ?? true;
  let s = text;
  if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
  const out: DelimitedRecord[] = [];
  let line = 1;
  let i = 0;
  const n = s.length;
  let fields: string[] = [];
  let field = '';
  let recordLine = 1;
  let recordHasContent = false;

  const endRecord = () => {
    fields.push(field);
    // A record consisting of one empty unquoted field is a blank line.
    if (recordHasContent || fields.length > 1) out.push({ line: recordLine, fields });
    fields = [];
    field = '';
    recordHasContent = false;
  };

  while (i < n) {
    if (!recordHasContent && fields.length === 0 && field === '') recordLine = line;
    const c = s[i]!;
    if (c === '"' && field === '') {
      // Quoted field.
      const openLine = line;
      recordHasContent = true;
      i++;
      let closed = false;
      while (i < n) {
        const d = s[i]!;
        if (d === '"') {
          if (s[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          closed = true;
          i++;
          break;
        }
        if (d === '\r' && s[i + 1] === '\n') {
          field += '\r\n';
          i += 2;
          line++;
          continue;
        }
        if (d === '\n' || d === '\r') {
          line++;
          field += d;
          i++;
          continue;
        }
        let j = i + 1;
        while (j < n) {
          const e = s[j]!;
          if (e === '"' || e === '\n' || e === '\r') break;
          j++;
        }
        field += s.slice(i, j);
        i = j;
      }
      if (!closed) {
        throw new SuiteImportError(openLine, 'unterminated quoted field (a " opened here is never closed)');
      }
      // After the closing quote: delimiter, line end or end of text.
      if (i < n) {
        const e = s[i]!;
        if (e !== delim && e !== '\n' && e !== '\r') {
          if (strict) {
            throw new SuiteImportError(
              line,
              `unexpected ${JSON.stringify(e)} after a closing quote (expected ${JSON.stringify(delim)} or end of line)`,
            );
          }
          // Lenient: keep reading the rest as literal text of this field.
          while (i < n && s[i] !== delim && s[i] !== '\n' && s[i] !== '\r') field += s[i++];
        }
      }
      continue;
    }
    if (c === delim) {
      fields.push(field);
      field = '';
      recordHasContent = true;
      i++;
      continue;
    }
    if (c === '\r' || c === '\n') {
      endRecord();
      if (c === '\r' && s[i + 1] === '\n') i++;
      i++;
      line++;
      continue;
    }
    if (c === '"' && strict) {
      throw new SuiteImportError(line, 'a quote (") inside an unquoted field; quote the whole field and double inner quotes');
    }
    // Take the run of ordinary characters in one slice (fast on large files).
    let j = i + 1;
    while (j < n) {
      const d = s[j]!;
      if (d === delim || d === '\n' || d === '\r' || (d === '"' && strict)) break;
      j++;
    }
    field += s.slice(i, j);
    recordHasContent = true;
    i = j;
  }
  if (recordHasContent || fields.length > 0 || field !== '') endRecord();
  return out;
}

/** Records as objects keyed by the header row; checks the column count of every row. */
export function parseDelimitedWithHeader(
  text: string,
  opts: ParseDelimitedOptions = {},
): { header: string[]; headerLine: number; rows: { line: number; values: Record<string, string> }[] } {
  const recs = parseDelimited(text, opts);
  if (recs.length === 0) throw new SuiteImportError(1, 'the file is empty (expected a header row)');
  const head = recs[0]!;
  const header = head.fields.map((h) => h.trim());
  const rows: { line: number; values: Record<string, string> }[] = [];
  for (let r = 1; r < recs.length; r++) {
    const rec = recs[r]!;
    if (rec.fields.length !== header.length) {
      throw new SuiteImportError(
        rec.line,
        `expected ${header.length} columns (${header.join(', ')}) but found ${rec.fields.length}`,
      );
    }
    const values: Record<string, string> = {};
    header.forEach((h, k) => (values[h] = rec.fields[k]!));
    rows.push({ line: rec.line, values });
  }
  return { header, headerLine: head.line, rows };
}

/** Serialises one field per RFC 4180 (quotes when needed). */
export function csvField(v: string | number | boolean | null | undefined, delimiter = ','): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  if (s.includes('"') || s.includes(delimiter) || s.includes('\n') || s.includes('\r')) {
    return `"${s.replace(/"/g, '""')}"`;
  }
  return s;
}

export function toCsv(rows: ReadonlyArray<ReadonlyArray<string | number | boolean | null | undefined>>, delimiter = ','): string {
  return rows.map((r) => r.map((v) => csvField(v, delimiter)).join(delimiter)).join('\n') + '\n';
}
