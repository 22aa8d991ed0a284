/**
 * A small JSON parser that reports the line of a syntax error and the line each top-level array element
 * starts on (JSON.parse in Node 20 often reports neither). Browser-safe.
 */
import { SuiteImportError } from './errors.js';

export interface ParsedJson {
  value: unknown;
  /** For a top-level array: the 1-based line each element starts on. Empty otherwise. */
  elementLines: number[];
}

export function parseJsonWithLines(text: string): ParsedJson {
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  // Fast path for the value; our own scan still gives element lines and error lines.
  let fast: unknown;
  let fastOk = true;
  try {
    fast = JSON.parse(s);
  } catch {
    fastOk = false;
  }
  const p = new Parser(s);
  p.ws();
  if (p.i >= s.length) throw new SuiteImportError(1, 'the file is empty (expected JSON)');
  const elementLines: number[] = [];
  try {
    const value = p.value(0, elementLines);
    p.ws();
    if (p.i < s.length) p.fail(`unexpected ${describe(s[p.i]!)} after the end of the JSON value`);
    return { value: fastOk ? fast : value, elementLines };
  } catch (e) {
    // Never reject what JSON.parse accepts; only the element lines are lost then.
    if (fastOk) return { value: fast, elementLines: [] };
    throw e;
  }
}

function describe(c: string): string {
  return JSON.stringify(c);
}

class Parser {
  i = 0;
  line = 1;
  constructor(readonly s: string) {}

  fail(msg: string): never {
    throw new SuiteImportError(this.line, `invalid JSON: ${msg}`);
  }

  ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 10) {
        this.line++;
        this.i++;
      } else if (c === 32 || c === 9 || c === 13) this.i++;
      else break;
    }
  }

  value(depth: number, elementLines: number[] | null): unknown {
    if (depth > 512) this.fail('nesting too deep');
    this.ws();
    const c = this.s[this.i];
    if (c === undefined) this.fail('unexpected end of input');
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth, elementLines);
    if (c === '"') return this.string();
    if (c === 't') return this.literal('true', true);
    if (c === 'f') return this.literal('false', false);
    if (c === 'n') return this.literal('null', null);
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    return this.fail(`unexpected ${describe(c)}`);
  }

  literal<T>(word: string, v: T): T {
    if (this.s.startsWith(word, this.i)) {
      this.i += word.length;
      return v;
    }
    return this.fail(`unexpected ${describe(this.s[this.i]!)}`);
  }

  number(): number {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (!m) this.fail('malformed number');
    this.i += m[0].length;
    return Number(m[0]);
  }

  string(): string {
    const s = this.s;
    this.i++; // opening quote
    let out = '';
    let start = this.i;
    while (true) {
      if (this.i >= s.length) this.fail('unterminated string');
      const c = s.charCodeAt(this.i);
      if (c === 34) {
        out += s.slice(start, this.i);
        this.i++;
        return out;
      }
      if (c === 92) {
        out += s.slice(start, this.i);
        const e = s[this.i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && e in simple) {
          out += simple[e];
          this.i += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(this.i + 2, this.i + 6))) {
          out += String.fromCharCode(parseInt(s.slice(this.i + 2, this.i + 6), 16));
          this.i += 6;
        } else this.fail(`bad escape \\${e ?? ''} in a string`);
        start = this.i;
        continue;
      }
      if (c < 32) this.fail(c === 10 ? 'unterminated string (a raw newline inside a string)' : 'control character inside a string');
      this.i++;
    }
  }

  array(depth: number, elementLines: number[] | null): unknown[] {
    this.i++;
    const out: unknown[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    while (true) {
      this.ws();
      if (elementLines) elementLines.push(this.line);
      out.push(this.value(depth + 1, null));
      if (this.afterElement(']')) return out;
    }
  }

  /** After an element: "," continues (a trailing comma is an error), `close` ends the container (true). */
  private afterElement(close: ']' | '}'): boolean {
    this.ws();
    const c = this.s[this.i];
    if (c === ',') {
      this.i++;
      const commaLine = this.line;
      this.ws();
      if (this.s[this.i] === close) {
        this.line = commaLine;
        this.fail(`trailing comma before "${close}"`);
      }
      return false;
    }
    if (c === close) {
      this.i++;
      return true;
    }
    if (c === undefined) this.fail(`unexpected end of input (missing "${close}")`);
    this.fail(`expected "," or "${close}" but found ${describe(c)}`);
  }

  object(depth: number): Record<string, unknown> {
    this.i++;
    const out: Record<string, unknown> = {};
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    while (true) {
      this.ws();
      if (this.s[this.i] !== '"') {
        if (this.s[this.i] === undefined) this.fail('unexpected end of input (missing "}")');
        this.fail(`expected a quoted key but found ${describe(this.s[this.i]!)}`);
      }
      const k = this.string();
      this.ws();
      if (this.s[this.i] !== ':') this.fail(`expected ":" after key ${JSON.stringify(k)}`);
      this.i++;
      out[k] = this.value(depth + 1, null);
      if (this.afterElement('}')) return out;
    }
  }
}
