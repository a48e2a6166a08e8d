/** A tiny HTTPS client for tests: keep-alive, trusts only the test CA, returns status + parsed body. */
import { Agent, request } from 'node:https';

export interface HttpsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export class HttpsClient {
  readonly agent: Agent;

  constructor(
    readonly baseUrl: string,
    ca: string | Buffer,
    extra: { cert?: string; key?: string } = {},
  ) {
    this.agent = new Agent({ ca, keepAlive: true, maxSockets: 16, ...extra });
  }

  send(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<HttpsResponse> {
    const url = new URL(path, this.baseUrl);
    return new Promise((resolve, reject) => {
      const req = request(url, { method, agent: this.agent, headers: { ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}), ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  postJson(path: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpsResponse> {
    return this.send('POST', path, typeof body === 'string' ? body : JSON.stringify(body), { 'content-type': 'application/json', ...headers });
  }

  close(): void {
    this.agent.destroy();
  }
}
