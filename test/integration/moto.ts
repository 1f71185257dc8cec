/**
 * Starts moto_server (python3 -m moto.server) on 127.0.0.1 at a free port
 * for the integration tier (see global-setup.ts), and stops it afterwards.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

async function waitUntilUp(endpoint: string, server: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`moto_server exited with ${server.exitCode}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('moto_server did not start within 30 s');
}

/** Why moto cannot run here, or '' when it can. */
export function motoMissing(): string {
  const probe = spawnSync('python3', ['-c', 'import moto.server'], { encoding: 'utf8' });
  return probe.status === 0
    ? ''
    : 'moto is not installed (python3 -c "import moto.server" failed); integration tests skipped';
}

export interface MotoServer {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  readonly stop: () => void;
}

export async function startMoto(): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const server = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // No MOTO_ACCOUNT_ID: it would pin every request to one account, and org
    // mode's tests need assumed-role credentials to act as the member account.
    // The gateway names the sample findings' account for the default credentials.
    env: withoutMotoAccount(process.env),
  });
  let stderr = '';
  server.stderr?.on('data', (chunk: Buffer) => {
    stderr = `${stderr}${chunk.toString()}`.slice(-4000);
  });
  try {
    await waitUntilUp(endpoint, server);
  } catch (error) {
    server.kill();
    throw new Error(`${String(error)}\n${stderr}`);
  }
  return { endpoint, stop: () => server.kill() };
}

function withoutMotoAccount(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { MOTO_ACCOUNT_ID: _ignored, ...rest } = env;
  return rest;
}
