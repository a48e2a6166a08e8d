/** A start-up problem the user can fix with a flag (missing file, conflicting flags): exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
