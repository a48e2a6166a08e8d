/** Helpers for the TLS tests: TLS/HTTPS servers on 127.0.0.1:0 and handshake probes. */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';

export async function listen<T extends tls.Server>(server: T): Promise<{ server: T; port: number; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      if ('closeAllConnections' in server) (server as unknown as https.Server).closeAllConnections();
      server.close(() => resolve());
    });
  return { server, port, close };
}

export type Handshake = { ok: true; protocol: string | null; authorized: boolean; fingerprint: string } | { ok: false; error: string };

/** One TLS handshake, then a one-byte round trip so TLS 1.3's late client-certificate alert surfaces. */
export function handshake(port: number, options: tls.ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...options });
    let settled = false;
    const done = (result: Handshake): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(result);
    };
    socket.on('error', (error) => done({ ok: false, error: error.message }));
    socket.on('close', () => done({ ok: false, error: 'closed before an answer' }));
    socket.on('secureConnect', () => {
      socket.write('ping\n');
    });
    socket.on('data', () =>
      done({ ok: true, protocol: socket.getProtocol(), authorized: socket.authorized, fingerprint: socket.getPeerCertificate().fingerprint256 }),
    );
  });
}

/** A TLS echo server that answers any data with "pong", to pair with handshake(). */
export function pongServer(options: tls.TlsOptions): tls.Server {
  return tls.createServer(options, (socket) => {
    socket.on('data', () => socket.write('pong\n'));
    socket.on('error', () => undefined);
  });
}
