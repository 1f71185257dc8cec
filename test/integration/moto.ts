/**
 * Starts moto_server (python3 -m moto.server) on 127.0.0.1 at a free port
 * for the integration tier, and stops it afterwards. Where moto is not
 * installed, tests are told so and skip.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** http://127.0.0.1:<port>, or '' when moto is not available. */
    motoEndpoint: string;
    motoMissing: string;
  }
}

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

export default async function setup(project: TestProject) {
  const probe = spawnSync('python3', ['-c', 'import moto.server'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    const why =
      'moto is not installed (python3 -c "import moto.server" failed); integration tests skipped';
    process.stderr.write(`\n${why}\n`);
    project.provide('motoEndpoint', '');
    project.provide('motoMissing', why);
    return;
  }
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
  project.provide('motoEndpoint', endpoint);
  project.provide('motoMissing', '');
  return () => {
    server.kill();
  };
}
