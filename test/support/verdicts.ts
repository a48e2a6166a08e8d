/** Assertions shared by the rules tables run through HTTPS: an AdmissionReview response against a table case. */
import { expect } from 'vitest';
import type { BackendCase } from '../backend/cases.js';

/**
 * The response denies exactly the case's causes (field and reason), in apimachinery's 422 shape with
 * every cause in the message, and carries its warnings (`exactWarnings`: no others).
 */
export function expectCaseVerdict(r: any, c: BackendCase, exactWarnings = false): void {
  const causes = (r.status?.details?.causes ?? []).map((x: { field: string; reason: string }) => ({ field: x.field, type: x.reason }));
  expect(causes).toEqual(expect.arrayContaining(c.expectErrors));
  expect(causes).toHaveLength(c.expectErrors.length);
  expect(r.allowed).toBe(c.expectErrors.length === 0);
  if (!r.allowed) {
    expect(r.status.code).toBe(422);
    expect(r.status.reason).toBe('Invalid');
    for (const cause of r.status.details.causes) expect(r.status.message).toContain(`${cause.field}: ${cause.message}`);
  }
  const patterns = c.expectWarnings ?? [];
  if (exactWarnings) expect(r.warnings ?? []).toHaveLength(patterns.length);
  for (const pattern of patterns) expect(r.warnings ?? []).toEqual(expect.arrayContaining([expect.stringMatching(pattern)]));
}
