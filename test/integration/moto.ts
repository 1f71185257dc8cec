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
    // The sample findings' account, so the ARNs moto makes are the ones hubfix trusts.
    env: { ...process.env, MOTO_ACCOUNT_ID: '111111111111' },
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
