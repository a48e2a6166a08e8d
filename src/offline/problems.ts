/**
 * Problems with the input itself rather than with an object in it. Codes decide the exit code:
 * a path that cannot be read (or a schema directory that does not load) means the run could not
 * see what it was asked to check (2); a document that does not parse is an invalid input (1).
 */
export type InputProblemCode =
  /** A path given on the command line does not exist. */
  | 'PathNotFound'
  /** A file or directory exists but could not be read. */
  | 'ReadFailed'
  /** A `--schema-dir` file that does not parse, or a schema in it that does not compile. */
  | 'SchemaDirFailed'
  /** A `--policy-dir` file that does not parse, or a policy in it that is refused. */
  | 'PolicyDirFailed'
  /** Broken YAML/JSON. */
  | 'ParseFailed'
  /** A document (or List item) that is not a mapping. */
  | 'NotAnObject';

export interface InputProblem {
  readonly code: InputProblemCode;
  readonly file: string;
  readonly document?: number;
  readonly item?: number;
  /** 1-based, when known. */
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

const IO_CODES: ReadonlySet<InputProblemCode> = new Set(['PathNotFound', 'ReadFailed', 'SchemaDirFailed', 'PolicyDirFailed']);

/** True when the problem stopped the run from seeing its input: exit code 2. */
export const isIoProblem = (p: InputProblem): boolean => IO_CODES.has(p.code);
