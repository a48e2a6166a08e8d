// A stand-in audit worker (test/audit/worker-host.test.ts): its first start reports and then
// crashes; the next one reports two objects and stops when asked, as the real worker does.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

const marker = join(workerData.dir, 'started-once');
const first = !existsSync(marker);
writeFileSync(marker, 'x');
const summary = (objects) => ({ enabled: true, leader: true, objects, violations: 0, warnings: 0, reportsWritten: 0, reports: 'writing', namespaces: [] });
parentPort.postMessage({ type: 'log', line: `{"level":30,"thread":"audit","msg":"stand-in worker up","first":${first}}\n` });
parentPort.postMessage({ type: 'objects', count: first ? 1 : 2 });
parentPort.postMessage({ type: 'run', result: 'success', durationSeconds: 0.25 });
parentPort.postMessage({ type: 'violations', counts: new Map([['team-a', new Map([['Backend', first ? 1 : 3]])]]) });
parentPort.postMessage({ type: 'summary', summary: summary(first ? 1 : 2) });
if (first) setTimeout(() => { throw new Error('stand-in audit worker crashed'); }, 100);
parentPort.on('message', (m) => {
  if (m.type !== 'stop') return;
  parentPort.postMessage({ type: 'stopped' });
  process.exit(0);
});
