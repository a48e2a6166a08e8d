/** Kubernetes name syntaxes (k8s.io/apimachinery/pkg/util/validation), as problem descriptions. */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
export const MAX_LABEL = 63;
export const MAX_SUBDOMAIN = 253;

export function dns1123LabelProblem(value: string): string | undefined {
  if (value.length > MAX_LABEL) return `must be at most ${MAX_LABEL} characters`;
  if (!DNS1123_LABEL.test(value)) {
    return "must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit";
  }
  return undefined;
}

export function dns1035LabelProblem(value: string): string | undefined {
  if (value.length > MAX_LABEL) return `must be at most ${MAX_LABEL} characters`;
  if (!DNS1035_LABEL.test(value)) {
    return "must be a DNS-1035 label: lower-case letters, digits and '-', starting with a letter and ending with a letter or digit";
  }
  return undefined;
}

const DOT = 46;
const HYPHEN = 45;

/**
 * One scan for the common case (every admission checks several names): true when `name` is at most
 * 253 characters of dot-separated RFC 1123 labels (1-63 of a-z, 0-9 and inner '-'), with at least
 * `minLabels` labels and, unless `lastMayBeNumeric`, a last label that is not all digits.
 * False says nothing more: callers then work out which rule is broken.
 */
export function isPlainDnsName(name: string, minLabels: number, lastMayBeNumeric: boolean): boolean {
  const n = name.length;
  if (n === 0 || n > MAX_SUBDOMAIN) return false;
  let labels = 0;
  let start = 0;
  let allDigits = true;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? name.charCodeAt(i) : DOT;
    if (c === DOT) {
      const length = i - start;
      if (length === 0 || length > MAX_LABEL || name.charCodeAt(start) === HYPHEN || name.charCodeAt(i - 1) === HYPHEN) return false;
      if (i === n && allDigits && !lastMayBeNumeric) return false;
      labels++;
      start = i + 1;
      allDigits = true;
    } else if (c >= 48 && c <= 57) {
      // a digit keeps allDigits as it is
    } else if ((c >= 97 && c <= 122) || c === HYPHEN) {
      allDigits = false;
    } else {
      return false;
    }
  }
  return labels >= minLabels;
}

export function dns1123SubdomainProblem(value: string): string | undefined {
  if (isPlainDnsName(value, 1, true)) return undefined;
  if (value.length > MAX_SUBDOMAIN) return `must be at most ${MAX_SUBDOMAIN} characters`;
  const ok = value.split('.').every((label) => label.length <= MAX_LABEL && DNS1123_LABEL.test(label));
  return ok ? undefined : "must be a DNS-1123 subdomain: dot-separated labels of lower-case letters, digits and '-'";
}
