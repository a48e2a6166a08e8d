/**
 * Plain-HTTP GET on loopback (the metrics port, /readyz): a fresh connection each time (no agent,
 * so a stalled server cannot hold a pooled socket), at most 5 s.
 */
import { request as httpRequest } from 'node:http';

export function httpGet(port: number, path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path, agent: false, timeout: 5_000 }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    })
      .on('timeout', function (this: { destroy(e: Error): void }) {
        this.destroy(new Error(`GET ${path}: timed out`));
      })
      .on('error', reject)
      .end();
  });
}

/** The body of a GET that must answer 200. */
export async function httpGetOk(port: number, path: string): Promise<string> {
  const { status, text } = await httpGet(port, path);
  if (status !== 200) throw new Error(`GET ${path}: ${status}`);
  return text;
}
