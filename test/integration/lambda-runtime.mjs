/**
 * One Lambda execution environment for deployed.ts: a fresh Node process
 * that loads a synthesized bundle as the Node.js runtime does (module and
 * export named by the function's `Handler`, from LAMBDA_TASK_ROOT), then
 * handles the invocations its parent sends over IPC, one at a time, with a
 * Lambda-like context. Plain JavaScript on purpose: what runs here is the
 * bundle alone, not the project's TypeScript.
 *
 * Messages in:  { type: 'invoke', id, event, context: { awsRequestId, deadlineMs } }
 * Messages out: { type: 'ready', logs } | { type: 'init-error', error, logs }
 *               { type: 'result', id, ok, value | error, logs }
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

/** What the bundle writes, per phase: Powertools logs and EMF metrics go to stdout. */
let captured = [];
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream);
  stream.write = (chunk, ...rest) => {
    captured.push(
      ...String(chunk)
        .split('\n')
        .filter((line) => line !== ''),
    );
    return write(chunk, ...rest);
  };
}
function drain() {
  const lines = captured;
  captured = [];
  return lines;
}

function describeError(error) {
  return error instanceof Error
    ? { name: error.name, message: error.message, stack: error.stack }
    : { name: 'NonError', message: String(error) };
}

async function load() {
  const root = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
  const [moduleName, exportName] = (process.env._HANDLER ?? '').split('.');
  const file = ['.mjs', '.js', '.cjs']
    .map((extension) => path.join(root, `${moduleName}${extension}`))
    .find((candidate) => existsSync(candidate));
  if (!file || !exportName)
    throw new Error(`cannot find handler ${process.env._HANDLER} in ${root}`);
  const module = await import(pathToFileURL(file).href);
  const handler = module[exportName];
  if (typeof handler !== 'function') throw new Error(`${file} exports no function ${exportName}`);
  return handler;
}

let handler;
try {
  handler = await load();
  process.send?.({ type: 'ready', logs: drain() });
} catch (error) {
  process.send?.({ type: 'init-error', error: describeError(error), logs: drain() });
  process.exit(1);
}

process.on('message', async (message) => {
  if (message?.type !== 'invoke') return;
  const { id, event, context: given } = message;
  const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:${process.env.HUBFIX_INTEGRATION_ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: given.awsRequestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(0, given.deadlineMs - Date.now()),
    done() {},
    fail() {},
    succeed() {},
  };
  try {
    const value = await handler(event, context);
    process.send?.({ type: 'result', id, ok: true, value, logs: drain() });
  } catch (error) {
    process.send?.({ type: 'result', id, ok: false, error: describeError(error), logs: drain() });
  }
});

// The parent owns this environment: when it goes, so does the process.
process.on('disconnect', () => process.exit(0));
