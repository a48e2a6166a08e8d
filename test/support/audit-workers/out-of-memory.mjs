// A stand-in audit worker that keeps everything it allocates: it reaches its heap limit.
import { parentPort } from 'node:worker_threads';
parentPort.postMessage({ type: 'summary', summary: { enabled: true, leader: false, objects: 0, violations: 0, warnings: 0, reportsWritten: 0, reports: 'standby', namespaces: [] } });
const kept = [];
const grow = () => {
  for (let i = 0; i < 200; i++) kept.push(new Array(10_000).fill({ i }));
  setImmediate(grow);
};
grow();
