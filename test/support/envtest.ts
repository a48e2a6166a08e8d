/**
 * A real control plane for tests, envtest style: etcd + kube-apiserver on free loopback ports in a
 * temporary directory, the pair controller-runtime's envtest runs. No controller-manager, scheduler
 * or kubelet: nothing reconciles (no pods run, no default ServiceAccounts, namespace deletion never
 * finishes), but admission webhooks, CRDs, RBAC, tokens, list and watch are the real thing.
 *
 * Binaries come from one directory, named by KUBEBUILDER_ASSETS (the variable envtest uses):
 * `kube-apiserver` there, `etcd` and `kubectl` there or else from PATH.
 *
 * Used by the vitest global setup (envtest-setup.ts); nothing here depends on vitest.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import forge from 'node-forge';

export const ASSETS_VARIABLE = 'KUBEBUILDER_ASSETS';

/** What tests get (serializable: it travels to the test workers through vitest's provide/inject). */
export interface EnvtestInfo {
  /** https://127.0.0.1:PORT */
  readonly server: string;
  /** Admin kubeconfig (token of a system:masters user). */
  readonly kubeconfig: string;
  readonly token: string;
  /** PEM file of the CA that signed the API server's serving certificate. */
  readonly caFile: string;
  readonly kubectl: string;
  /** The run's temporary directory (removed at teardown); tests may put their files under it. */
  readonly dir: string;
  readonly apiServerVersion: string;
}

export class EnvtestError extends Error {
  constructor(
    readonly code: 'ASSETS' | 'START' | 'TIMEOUT',
    message: string,
  ) {
    super(message);
    this.name = 'EnvtestError';
  }
}

interface Binaries {
  apiServer: string;
  etcd: string;
  kubectl: string;
}

/** The binaries of an assets dir (kube-apiserver required there; etcd, kubectl there or on PATH). */
export function findBinaries(assets: string): Binaries {
  const apiServer = join(assets, 'kube-apiserver');
  if (!isExecutable(apiServer)) throw new EnvtestError('ASSETS', `${ASSETS_VARIABLE}=${assets}: ${apiServer} is missing or not executable`);
  const local = (name: string): string | undefined => [assets, ...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean)].map((dir) => join(dir, name)).find((file) => isExecutable(file));
  const etcd = local('etcd');
  if (!etcd) throw new EnvtestError('ASSETS', `etcd is neither in ${ASSETS_VARIABLE}=${assets} nor on PATH (Debian: apt-get install etcd-server)`);
  const kubectl = local('kubectl');
  if (!kubectl) throw new EnvtestError('ASSETS', `kubectl is neither in ${ASSETS_VARIABLE}=${assets} nor on PATH (Debian: apt-get install kubernetes-client)`);
  return { apiServer, etcd, kubectl };
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------- certificates

interface Pem {
  cert: string;
  key: string;
}

function rsaKeys(): { publicPem: string; privatePem: string; forgePublic: forge.pki.PublicKey; forgePrivate: forge.pki.rsa.PrivateKey } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicPem: publicKey, privatePem: privateKey, forgePublic: forge.pki.publicKeyFromPem(publicKey), forgePrivate: forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey };
}

function certificate(subjectCn: string, keys: ReturnType<typeof rsaKeys>, issuer: { cn: string; key: forge.pki.rsa.PrivateKey }, extensions: object[]): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.forgePublic;
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(Date.now() + 7 * 24 * 60 * 60 * 1000);
  cert.setSubject([{ name: 'commonName', value: subjectCn }]);
  cert.setIssuer([{ name: 'commonName', value: issuer.cn }]);
  cert.setExtensions(extensions);
  cert.sign(issuer.key, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** A CA and a serving certificate for 127.0.0.1 / localhost, independent of the product's code. */
function apiServerCertificates(): { ca: Pem; serving: Pem } {
  const caKeys = rsaKeys();
  const caCert = certificate('envtest-ca', caKeys, { cn: 'envtest-ca', key: caKeys.forgePrivate }, [
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
  ]);
  const leafKeys = rsaKeys();
  const leafCert = certificate('kube-apiserver', leafKeys, { cn: 'envtest-ca', key: caKeys.forgePrivate }, [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
  ]);
  return { ca: { cert: caCert, key: caKeys.privatePem }, serving: { cert: leafCert, key: leafKeys.privatePem } };
}

/** A kubeconfig for `server`, trusting `caFile`, authenticating with a bearer token. */
export function kubeconfigYaml(server: string, caFile: string, token: string, user = 'admin'): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: envtest',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority: ${caFile}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: envtest',
    `  context: {cluster: envtest, user: ${user}}`,
    'current-context: envtest',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- processes

interface Managed {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  readonly exited: Promise<void>;
}

function launch(name: string, binary: string, args: string[], logFile: string): Managed {
  const fd = openSync(logFile, 'a');
  const child = spawn(binary, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  return { name, child, logFile, exited };
}

const running = (m: Managed | undefined): boolean => m !== undefined && m.child.exitCode === null && m.child.signalCode === null;

function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function stopProcess(m: Managed | undefined, graceMs = 15_000): Promise<void> {
  if (!m || !running(m)) return;
  m.child.kill('SIGTERM');
  const killed = await Promise.race([m.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), graceMs).unref())]);
  if (!killed && running(m)) {
    m.child.kill('SIGKILL');
    await m.exited;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function httpsGet(url: string, ca: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: token ? { authorization: `Bearer ${token}` } : {}, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** A running etcd + kube-apiserver pair. */
export class ControlPlane {
  private etcd: Managed | undefined;
  private apiServer: Managed | undefined;
  private constructor(
    private readonly binaries: Binaries,
    readonly dir: string,
    private readonly ports: { etcdClient: number; etcdPeer: number; apiServer: number },
    readonly info: EnvtestInfo,
  ) {}

  /**
   * Starts both and waits until /readyz says ok (deadline `timeoutMs`). Ports are picked free and
   * then released, so another process may take one first: a start that dies at once is retried on
   * fresh ports (three attempts).
   */
  static async start(assets: string, options: { timeoutMs?: number } = {}): Promise<ControlPlane> {
    const binaries = findBinaries(assets);
    const version = spawnSync(binaries.apiServer, ['--version'], { encoding: 'utf8', timeout: 20_000 });
    if (version.status !== 0) {
      throw new EnvtestError('ASSETS', `${binaries.apiServer} --version failed (${version.error?.message ?? `exit ${version.status}`}): ${(version.stderr ?? '').trim().slice(0, 300)}`);
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await ControlPlane.startOnce(binaries, version.stdout.trim(), options.timeoutMs ?? 60_000);
      } catch (error) {
        if (!(error instanceof EnvtestError && error.code === 'START') || attempt >= 3) throw error;
      }
    }
  }

  private static async startOnce(binaries: Binaries, apiServerVersion: string, timeoutMs: number): Promise<ControlPlane> {
    const dir = mkdtempSync(join(tmpdir(), 'envtest-'));
    let plane: ControlPlane | undefined;
    try {
      const { ca, serving } = apiServerCertificates();
      const sa = rsaKeys();
      const token = randomBytes(24).toString('hex');
      const file = (name: string, content: string): string => {
        const path = join(dir, name);
        writeFileSync(path, content, { mode: 0o600 });
        return path;
      };
      const caFile = file('ca.crt', ca.cert);
      file('apiserver.crt', serving.cert);
      file('apiserver.key', serving.key);
      file('sa.pub', sa.publicPem);
      file('sa.key', sa.privatePem);
      file('tokens.csv', `${token},admin,admin,"system:masters"\n`);
      mkdirSync(join(dir, 'apiserver-certs'));
      const ports = { etcdClient: await freeLoopbackPort(), etcdPeer: await freeLoopbackPort(), apiServer: await freeLoopbackPort() };
      const server = `https://127.0.0.1:${ports.apiServer}`;
      const kubeconfig = file('kubeconfig', kubeconfigYaml(server, caFile, token));
      plane = new ControlPlane(binaries, dir, ports, { server, kubeconfig, token, caFile, kubectl: binaries.kubectl, dir, apiServerVersion });
      await plane.startEtcd();
      await plane.startApiServer(timeoutMs);
      return plane;
    } catch (error) {
      if (plane) await plane.stop();
      else rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  get pids(): { etcd?: number; apiServer?: number } {
    return { etcd: running(this.etcd) ? this.etcd?.child.pid : undefined, apiServer: running(this.apiServer) ? this.apiServer?.child.pid : undefined };
  }

  private async startEtcd(): Promise<void> {
    const { etcdClient, etcdPeer } = this.ports;
    const client = `http://127.0.0.1:${etcdClient}`;
    const peer = `http://127.0.0.1:${etcdPeer}`;
    const etcd = launch(
      'etcd',
      this.binaries.etcd,
      [
        '--name', 'default',
        '--data-dir', join(this.dir, 'etcd'),
        '--listen-client-urls', client,
        '--advertise-client-urls', client,
        '--listen-peer-urls', peer,
        '--initial-advertise-peer-urls', peer,
        '--initial-cluster', `default=${peer}`,
      ],
      join(this.dir, 'etcd.log'),
    );
    this.etcd = etcd;
    // kube-apiserver retries etcd by itself; only an etcd that dies at once is worth reporting here.
    await sleep(200);
    if (!running(etcd)) throw new EnvtestError('START', `etcd exited at start: ${logTail(etcd.logFile)}`);
  }

  /** Starts kube-apiserver on its port (the same one after a restart) and waits for /readyz. */
  async startApiServer(timeoutMs = 60_000): Promise<void> {
    if (running(this.apiServer)) return;
    const d = (name: string): string => join(this.dir, name);
    const apiServer = launch(
      'kube-apiserver',
      this.binaries.apiServer,
      [
        '--bind-address', '127.0.0.1',
        '--secure-port', String(this.ports.apiServer),
        '--etcd-servers', `http://127.0.0.1:${this.ports.etcdClient}`,
        '--tls-cert-file', d('apiserver.crt'),
        '--tls-private-key-file', d('apiserver.key'),
        '--client-ca-file', d('ca.crt'),
        '--token-auth-file', d('tokens.csv'),
        '--authorization-mode', 'RBAC',
        '--service-account-issuer', 'https://kubernetes.default.svc',
        '--service-account-key-file', d('sa.pub'),
        '--service-account-signing-key-file', d('sa.key'),
        '--service-cluster-ip-range', '10.96.0.0/16',
        '--cert-dir', d('apiserver-certs'),
        // On SIGTERM, end open watches within two seconds (then exit) instead of waiting on them.
        '--shutdown-watch-termination-grace-period', '2s',
      ],
      d('apiserver.log'),
    );
    this.apiServer = apiServer;
    const ca = readFileSync(this.info.caFile, 'utf8');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!running(apiServer)) throw new EnvtestError('START', `kube-apiserver exited at start: ${logTail(apiServer.logFile)}`);
      if (this.etcd && !running(this.etcd)) throw new EnvtestError('START', `etcd exited: ${logTail(this.etcd.logFile)}`);
      try {
        const r = await httpsGet(`${this.info.server}/readyz`, ca, this.info.token);
        if (r.status === 200 && r.body.trim() === 'ok') return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new EnvtestError('TIMEOUT', `kube-apiserver not ready within ${timeoutMs} ms: ${logTail(apiServer.logFile)}`);
      await sleep(200);
    }
  }

  /** Stops kube-apiserver only (etcd keeps the data); startApiServer() brings it back. */
  async stopApiServer(): Promise<void> {
    const started = Date.now();
    await stopProcess(this.apiServer);
    this.lastStopMs = Date.now() - started;
  }

  /** How long the last stopApiServer() took (SIGTERM to exit), for diagnosis. */
  lastStopMs: number | undefined;

  async restartApiServer(): Promise<void> {
    await this.stopApiServer();
    await this.startApiServer();
  }

  /** Stops both by pid and removes the directory. Safe to call twice. */
  async stop(): Promise<void> {
    await stopProcess(this.apiServer);
    await stopProcess(this.etcd);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** For process exit handlers: SIGKILL by pid, synchronously. */
  killSync(): void {
    for (const m of [this.apiServer, this.etcd]) if (m && running(m)) m.child.kill('SIGKILL');
    if (existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true });
  }
}
