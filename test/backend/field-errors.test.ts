import { describe, expect, it } from 'vitest';
import { errorBody, formatFieldError, invalid, notSupported, required, tooLong } from '../../src/backend/field-errors.js';

describe('field error rendering (apimachinery ErrorBody)', () => {
  it('renders values like the API server', () => {
    expect(formatFieldError(invalid('spec.destination.ports[0].number', 0, 'must be between 1 and 65535, inclusive'))).toBe(
      'spec.destination.ports[0].number: Invalid value: 0: must be between 1 and 65535, inclusive',
    );
    expect(errorBody(notSupported('spec.destination.type', 'Dns', ['Fqdn', 'Ip', 'Service']))).toBe('Unsupported value: "Dns": supported values: "Fqdn", "Ip", "Service"');
    expect(errorBody(required('spec.destination'))).toBe('Required value');
    expect(errorBody(tooLong('x', 10))).toBe('Too long: may not be more than 10 bytes');
  });

  it('prints maps with sorted keys, so a message never depends on key order', () => {
    const a = errorBody(invalid('spec.extensions', { b: { y: 1, x: [{ d: 1, c: 2 }] }, a: 0 }, 'must be of type array'));
    const b = errorBody(invalid('spec.extensions', { a: 0, b: { x: [{ c: 2, d: 1 }], y: 1 } }, 'must be of type array'));
    expect(a).toBe(b);
    expect(a).toBe('Invalid value: {"a":0,"b":{"x":[{"c":2,"d":1}],"y":1}}: must be of type array');
  });

  it('cuts long values instead of echoing them whole', () => {
    const body = errorBody(invalid('spec.destination.fqdn.hostname', 'a'.repeat(100_000)));
    expect(body.length).toBeLessThan(400);
    expect(body).toMatch(/\.\.\.\(truncated\)$/);
  });
});
