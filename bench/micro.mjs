// Per-call cost of each stage of an admission, in a warm in-process loop: µs and bytes allocated.
// Not a throughput measure (that is bench/run.mjs); a tool for finding where a request's work goes.
//   npm run build && node --max-semi-space-size=512 --min-semi-space-size=512 --expose-gc bench/micro.mjs
// (the large young generation keeps the collector out of the loop, so heap growth = bytes allocated).
import { review, typicalBackend, typicalXBackend, writeSmallSchemaDir, XBACKEND_GVR } from './fixtures.mjs';
import { mkdtempSync, rmSync } from 'node:fs'; import { tmpdir } from 'node:os'; import { join } from 'node:path';
import pino from 'pino';
const { parseJson, screenJson } = await import('../dist/admission/body.js');
const { decodeReview, encodeReview } = await import('../dist/admission/review.js');
const { validateRequest, mutateRequest } = await import('../dist/admission/handlers.js');
const { validateBackend } = await import('../dist/backend/validate.js');
const { defaultBackend } = await import('../dist/backend/defaults.js');
const { schemaIssues } = await import('../dist/backend/schema.js');
const { checkDestination } = await import('../dist/backend/rules/destination.js');
const { checkExtensions } = await import('../dist/backend/rules/extensions.js');
const { Findings } = await import('../dist/backend/issues.js');
const { ExtensionSchemaRegistry } = await import('../dist/schemas/extension-registry.js');
const { FileConfigMapSource } = await import('../dist/schemas/file-source.js');
const { DEFAULT_VALIDATION_OPTIONS } = await import('../dist/backend/options.js');
const work = mkdtempSync(join(tmpdir(), 'micro-'));
const dir = join(work, 's'); writeSmallSchemaDir(dir);
const reg = new ExtensionSchemaRegistry({ logger: pino({ level: 'silent' }) });
await reg.start([new FileConfigMapSource({ paths: [dir] })]);
const buf = Buffer.from(JSON.stringify(review(typicalBackend())));
const ctx = { schemas: reg.snapshot(), options: DEFAULT_VALIDATION_OPTIONS };
const parsed = parseJson(buf).value; const req = decodeReview(parsed).request;
const N = 5000;
function a(name, fn) {
  for (let i = 0; i < 3000; i++) fn();
  globalThis.gc();
  const h0 = process.memoryUsage().heapUsed; const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn();
  const t = Number(process.hrtime.bigint() - t0) / N / 1000;
  const h = (process.memoryUsage().heapUsed - h0) / N;
  console.log(name.padEnd(26), String(Math.round(h)).padStart(7), 'B', t.toFixed(2).padStart(7), 'µs');
}
const ext = ctx.schemas.get('bench.example.com/RoutePolicy:v1');
const rc = req.object.spec.extensions[0].rawConfig;
a('parseJson', () => parseJson(buf));
a('screenJson', () => screenJson(parsed, 100));
a('decodeReview', () => decodeReview(parsed));
a('schemaIssues', () => schemaIssues(req.object));
a('checkDestination', () => checkDestination({ findings: new Findings(), options: ctx.options, schemas: ctx.schemas }, req.object.spec.destination, ['spec', 'destination']));
a('checkExtensions', () => checkExtensions({ findings: new Findings(), options: ctx.options, schemas: ctx.schemas }, req.object.spec.extensions, ['spec', 'extensions']));
a('ext.validate', () => ext.validate(rc));
a('validateBackend', () => validateBackend({ object: req.object, operation: 'CREATE' }, ctx.schemas, ctx.options));
a('validateRequest', () => validateRequest(req, ctx));
a('defaultBackend', () => defaultBackend(req.object));
a('mutateRequest', () => mutateRequest(req, ctx));
const xreq = decodeReview(parseJson(Buffer.from(JSON.stringify(review(typicalXBackend(), 'CREATE', XBACKEND_GVR)))).value).request;
a('validateRequest XBackend', () => validateRequest(xreq, ctx));
a('mutateRequest XBackend', () => mutateRequest(xreq, ctx));
const v = validateRequest(req, ctx);
a('encodeReview', () => encodeReview('admission.k8s.io/v1', { uid: req.uid, ...v }));
await reg.stop();
rmSync(work, { recursive: true, force: true });
