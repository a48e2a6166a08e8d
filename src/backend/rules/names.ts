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

export function dns1123SubdomainProblem(value: string): string | undefined {
  if (value.length > MAX_SUBDOMAIN) return `must be at most ${MAX_SUBDOMAIN} characters`;
  const ok = value.split('.').every((label) => label.length <= MAX_LABEL && DNS1123_LABEL.test(label));
  return ok ? undefined : "must be a DNS-1123 subdomain: dot-separated labels of lower-case letters, digits and '-'";
}
