import { afterAll } from 'vitest';
import { stopGateway } from './gateway';

// Each file starts the gateway on first use; closing it lets the worker exit.
afterAll(async () => {
  await stopGateway();
});
