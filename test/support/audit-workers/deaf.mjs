// A stand-in audit worker that never answers the stop request.
import { parentPort } from 'node:worker_threads';
parentPort.on('message', () => undefined);
setInterval(() => undefined, 1000);
