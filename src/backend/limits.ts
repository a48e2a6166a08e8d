/**
 * Bounds on what one object can cost to judge and to answer (issue 12.2: a 2 MB Backend with
 * thousands of problems produced a 46 MB answer and exhausted the heap). The verdict never depends
 * on them: past a bound the object is refused all the same, only with fewer of its problems named.
 */

/** Most `spec.extensions` items (TooMany past it; also maxItems in the CRDs and the JSON Schema). */
export const MAX_EXTENSIONS = 64;
/** Most `spec.destination.ports` items (the JSON Schema's maxItems). */
export const MAX_PORTS = 64;

/** Most causes in one denial; past it one last cause says how many more there were. */
export const MAX_CAUSES = 100;

/**
 * Problems collected per object before the rules stop collecting: far more than a denial can name
 * (MAX_CAUSES), few enough that collecting them costs little. Past it, rules still run (the verdict
 * must stay right) but schema validation stops at the first problem of each value.
 */
export const MAX_COLLECTED_ISSUES = 1000;

/**
 * Largest value (in JSON nodes) validated with every error collected (ajv `allErrors`). A larger
 * value is validated fail-fast, its first problem reported: ajv with `allErrors` on a million-item
 * array makes a million error objects before we can count them.
 */
export const ALL_ERRORS_MAX_NODES = 2000;

/** True when `value` has more than `limit` nodes (objects, arrays and scalars); stops counting there. */
export function exceedsNodes(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  const stack: object[] = [value];
  let count = 1;
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (Array.isArray(node)) {
      count += node.length;
      if (count > limit) return true;
      for (let i = 0; i < node.length; i++) {
        const child: unknown = node[i];
        if (child !== null && typeof child === 'object') stack.push(child);
      }
      continue;
    }
    for (const key in node) {
      if (++count > limit) return true;
      const child = (node as Record<string, unknown>)[key];
      if (child !== null && typeof child === 'object') stack.push(child);
    }
  }
  return false;
}
