// The ceiling: a bare Fastify HTTPS server with the same TLS certificate, HTTP/1.1, body limit and
// keep-alive as ours, that parses the body with JSON.parse and answers a fixed allowed
// AdmissionReview (echoing only what the contract requires: apiVersion and uid). Anything the real
// webhook does beyond this is what the ratio measures.
//
// Usage: node bench/ceiling-server.mjs <port> <tls.crt> <tls.key>
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const [port, certFile, keyFile] = process.argv.slice(2);
const app = Fastify({
  https: { minVersion: 'TLSv1.2', cert: readFileSync(certFile), key: readFileSync(keyFile) },
  logger: false,
  bodyLimit: 7 * 1024 * 1024,
  keepAliveTimeout: 120_000,
  requestTimeout: 60_000,
  maxRequestsPerSocket: 0,
});
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
  try {
    done(null, JSON.parse(body.toString('utf8')));
  } catch (err) {
    err.statusCode = 400;
    done(err);
  }
});
const answer = async (request, reply) => {
  const review = request.body;
  const body = JSON.stringify({ apiVersion: review.apiVersion, kind: 'AdmissionReview', response: { uid: review.request.uid, allowed: true } });
  return reply.code(200).header('content-type', 'application/json').send(body);
};
app.post('/validate', answer);
app.post('/mutate', answer);
app.get('/readyz', async () => ({ status: 'ready' }));
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
