/** Node TLS options for the serving listener: TLS 1.2+, Node's default ciphers, optional mutual TLS. */
import type { SecureContextOptions, TlsOptions } from 'node:tls';

export const MIN_TLS_VERSION = 'TLSv1.2';

export interface ServerTlsMaterial {
  cert: string | Buffer;
  key: string | Buffer;
  /** PEM of the CA(s) that sign acceptable client certificates; set = client certificates required. */
  clientCa?: string | Buffer;
}

/** For `https.createServer` / Fastify's `https` option. */
export function serverTlsOptions(material: ServerTlsMaterial): TlsOptions {
  return {
    ...secureContextOptions(material),
    ...(material.clientCa !== undefined ? { requestCert: true, rejectUnauthorized: true } : {}),
  };
}

/** For `server.setSecureContext(...)` on a certificate reload: the same material, nothing else changes. */
export function secureContextOptions(material: ServerTlsMaterial): SecureContextOptions {
  return {
    cert: material.cert,
    key: material.key,
    minVersion: MIN_TLS_VERSION,
    ...(material.clientCa !== undefined ? { ca: material.clientCa } : {}),
  };
}
