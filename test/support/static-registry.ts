/** A SchemaRegistry over a fixed lookup, for tests that are not about the registry itself. */
import { EMPTY_LOOKUP, type RegisteredTypeInfo, type SchemaLookup, type SchemaRegistry } from '../../src/schemas/registry.js';

export class StaticSchemaRegistry implements SchemaRegistry {
  constructor(
    private lookup: SchemaLookup = EMPTY_LOOKUP,
    private readonly rows: RegisteredTypeInfo[] = [],
  ) {}

  snapshot(): SchemaLookup {
    return this.lookup;
  }

  list(): RegisteredTypeInfo[] {
    return this.rows;
  }

  isReady(): boolean {
    return true;
  }

  /** Swaps the whole lookup at once, as a real registry does on change. */
  replace(lookup: SchemaLookup): void {
    this.lookup = lookup;
  }
}
