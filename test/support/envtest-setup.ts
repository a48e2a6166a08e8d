/**
 * vitest global setup of the `envtest` project (test/envtest/): one etcd + kube-apiserver per run,
 * shared by every envtest file, stopped by pid and cleaned up at teardown (also when tests fail).
 * vitest runs this only when an envtest file is selected, so other runs pay nothing.
 *
 * KUBEBUILDER_ASSETS unset: one line says the suite is skipped (under CI=true the suite fails
 * instead). Set but unusable: the suite fails with the reason.
 *
 * The control plane boots in the background while other projects' tests run. Tests reach it through
 * a small loopback HTTP endpoint (provided as `envtestControl`): GET /env waits for the boot and
 * answers its outcome; POST /apiserver/{stop,start,restart} stop or restart kube-apiserver (same
 * etcd, same port), which only this process can do: it owns the processes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestProject } from 'vitest/node';
import { ASSETS_VARIABLE, ControlPlane, type EnvtestInfo } from './envtest.js';

export type EnvtestOutcome = { state: 'ready'; info: EnvtestInfo } | { state: 'skipped'; reason: string } | { state: 'broken'; reason: string };

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the control endpoint (see the module comment). */
    envtestControl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const assets = process.env[ASSETS_VARIABLE];
  let plane: ControlPlane | undefined;
  let boot: Promise<EnvtestOutcome>;
  if (!assets) {
    const ci = process.env['CI'] === 'true';
    const reason = ci
      ? `${ASSETS_VARIABLE} is unset under CI=true: the real-API-server suite (test/envtest) must run in CI`
      : `${ASSETS_VARIABLE} is unset: the real-API-server tests (test/envtest) are skipped (see README, "Tests against a real API server")`;
    // The one visible line (the tests themselves are reported as skipped or failed).
    console.log(`envtest: ${reason}`);
    boot = Promise.resolve(ci ? { state: 'broken', reason } : { state: 'skipped', reason });
  } else {
    const started = Date.now();
    boot = ControlPlane.start(assets).then(
      (p) => {
        plane = p;
        console.log(`envtest: ${p.info.apiServerVersion} and etcd ready at ${p.info.server} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return { state: 'ready', info: p.info } as const;
      },
      (error: Error) => ({ state: 'broken', reason: `envtest: cannot start the control plane: ${error.message}` }) as const,
    );
  }
  const onExit = (): void => plane?.killSync();
  process.once('exit', onExit);

  const control = await serveControl(boot, () => plane);
  project.provide('envtestControl', control.url);

  return async () => {
    await new Promise<void>((resolve) => control.server.close(() => resolve()));
    control.server.closeAllConnections();
    await boot;
    await plane?.stop();
    process.removeListener('exit', onExit);
  };
}

async function serveControl(boot: Promise<EnvtestOutcome>, current: () => ControlPlane | undefined): Promise<{ server: Server; url: string }> {
  // One lifecycle operation at a time.
  let queue: Promise<unknown> = Promise.resolve();
  const server = createServer((req, res) => {
    const answer = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const run = (op: (p: ControlPlane) => Promise<void>): void => {
      const job = queue.then(async () => {
        const outcome = await boot;
        const plane = current();
        if (outcome.state !== 'ready' || !plane) return answer(409, { error: `no control plane (${outcome.state})` });
        try {
          await op(plane);
          answer(200, { pids: plane.pids, lastStopMs: plane.lastStopMs });
        } catch (error) {
          answer(500, { error: (error as Error).message });
        }
      });
      queue = job.catch(() => undefined);
    };
    const route = `${req.method} ${req.url}`;
    if (route === 'GET /env') void boot.then((outcome) => answer(200, outcome));
    else if (route === 'POST /apiserver/stop') run((p) => p.stopApiServer());
    else if (route === 'POST /apiserver/start') run((p) => p.startApiServer());
    else if (route === 'POST /apiserver/restart') run((p) => p.restartApiServer());
    else answer(404, { error: `unknown ${route}` });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
