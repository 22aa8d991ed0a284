/** An import problem a user can fix: the 1-based line (0 when no line applies) and what is wrong. */
export class SuiteImportError extends Error {
  constructor(
    readonly line: number,
    readonly problem: string,
    readonly file?: string,
  ) {
    super(`${file ? `${file}: ` : ''}${line > 0 ? `line ${line}: ` : ''}${problem}`);
    this.name = 'SuiteImportError';
  }

  /** The same error with the file name attached (used by the importer once it knows the name). */
  withFile(file: string): SuiteImportError {
    return this.file ? this : new SuiteImportError(this.line, this.problem, file);
  }
}
