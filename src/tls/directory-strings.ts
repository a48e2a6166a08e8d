/**
 * ASN.1 string types of distinguished-name attributes. Go's crypto/x509 (kube-apiserver, kubectl,
 * cert-manager) refuses a whole certificate when a PrintableString holds a character outside its
 * alphabet, where OpenSSL and Node read it happily: `backend-webhook-ca@1700000000` once made every
 * admission call fail. So we choose the type from the characters when making certificates, and
 * check certificates we are handed (any key type: this reads the DER, not forge's RSA-only model).
 */
import forge from 'node-forge';

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
// Go's parser also lets '*' and '&' through (misissued certificates in the wild); we never write them.
const GO_PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?*&]*$/;
const IA5 = /^[\x00-\x7f]*$/;

const TAG_NAMES: Record<number, string> = {
  [forge.asn1.Type.UTF8]: 'UTF8String',
  [forge.asn1.Type.PRINTABLESTRING]: 'PrintableString',
  [forge.asn1.Type.IA5STRING]: 'IA5String',
  20: 'T61String',
  [forge.asn1.Type.BMPSTRING]: 'BMPString',
};

/** A subject/issuer attribute for node-forge: PrintableString only when every character fits it. */
export function directoryString(name: string, value: string): { name: string; value: string; valueTagClass: number } {
  return { name, value, valueTagClass: PRINTABLE.test(value) ? forge.asn1.Type.PRINTABLESTRING : forge.asn1.Type.UTF8 };
}

export interface DirectoryStringAttribute {
  /** Which name: subject or issuer. */
  readonly in: 'subject' | 'issuer';
  readonly oid: string;
  readonly tag: number;
  readonly tagName: string;
  /** The raw bytes as a binary string (UTF-8 undecoded). */
  readonly bytes: string;
}

/** Every attribute of the issuer and subject names of one DER certificate. */
export function directoryStringAttributes(der: string): DirectoryStringAttribute[] {
  const certificate = forge.asn1.fromDer(der);
  const tbs = children(certificate)[0];
  const fields = children(tbs);
  // An explicit [0] version comes first in v3 certificates; v1 ones have none.
  const offset = fields[0]?.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
  const out: DirectoryStringAttribute[] = [];
  for (const [where, index] of [['issuer', offset + 2], ['subject', offset + 4]] as const) {
    for (const set of children(fields[index])) {
      for (const pair of children(set)) {
        const [oid, value] = children(pair);
        if (oid === undefined || value === undefined || typeof value.value !== 'string') continue;
        out.push({
          in: where,
          oid: forge.asn1.derToOid(oid.value as string),
          tag: value.type,
          tagName: TAG_NAMES[value.type] ?? `tag ${value.type}`,
          bytes: value.value,
        });
      }
    }
  }
  return out;
}

/**
 * Why an attribute's string type does not fit the characters it holds, or undefined. `go` judges
 * as Go's parser does (what a peer accepts); without it, by the strict alphabets (what we write).
 */
export function directoryStringProblem(attribute: DirectoryStringAttribute, options: { go?: boolean } = {}): string | undefined {
  const { tag, bytes } = attribute;
  const where = `${attribute.in} attribute ${attribute.oid}`;
  if (tag === forge.asn1.Type.PRINTABLESTRING && !(options.go ? GO_PRINTABLE : PRINTABLE).test(bytes)) {
    return `${where} is a PrintableString holding ${JSON.stringify(bytes)}, outside that type's alphabet`;
  }
  if (tag === forge.asn1.Type.IA5STRING && !IA5.test(bytes)) return `${where} is an IA5String holding non-ASCII bytes`;
  if (tag === forge.asn1.Type.UTF8 && !isUtf8(bytes)) return `${where} is a UTF8String that is not valid UTF-8`;
  return undefined;
}

/**
 * Why Go's crypto/x509 (kube-apiserver, kubectl) would refuse one PEM certificate block, in words
 * fit for a log line. Empty when it is acceptable.
 */
export function goParserProblems(block: string): string[] {
  let attributes: DirectoryStringAttribute[];
  try {
    attributes = directoryStringAttributes(pemBlockToDer(block));
  } catch (error) {
    return [`unreadable DER: ${(error as Error).message}`];
  }
  return attributes.flatMap((attribute) => directoryStringProblem(attribute, { go: true }) ?? []);
}

export function pemBlockToDer(block: string): string {
  const body = block.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return forge.util.decode64(body);
}

function children(node: forge.asn1.Asn1 | undefined): forge.asn1.Asn1[] {
  return node !== undefined && Array.isArray(node.value) ? node.value : [];
}

function isUtf8(binary: string): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(binary, 'binary'));
    return true;
  } catch {
    return false;
  }
}
