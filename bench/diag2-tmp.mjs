import { Worker } from 'node:worker_threads';
const rssMiB = () => Math.round(process.memoryUsage().rss / 2**20);
const code = (imports) => `
const v8 = require('node:v8'); const { parentPort } = require('node:worker_threads');
(async () => { for (const m of ${JSON.stringify(imports)}) await import(m); globalThis.gc?.(); await new Promise(r=>setTimeout(r,500)); globalThis.gc?.();
parentPort.postMessage(Math.round(v8.getHeapStatistics().used_heap_size/2**20)); })();`;
for (const imports of [[], ['@kubernetes/client-node'], ['/work/main/dist/audit/background.js'], ['@kubernetes/client-node','/work/main/dist/audit/background.js','/work/main/dist/schemas/startup.js','/work/main/dist/policies/startup.js','/work/main/dist/references/kube-grants.js']]) {
  const before = rssMiB();
  const w = new Worker(code(imports), { eval: true });
  const heap = await new Promise(r => w.on('message', r));
  console.log(JSON.stringify(imports).slice(0,80), 'worker heap', heap, 'MiB; process RSS +', rssMiB() - before);
  await w.terminate();
}
