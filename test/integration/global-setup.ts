/**
 * The integration tier's one-time setup: moto_server on 127.0.0.1 and a
 * `cdk synth` of the real app (synth.ts), side by side. Tests read the moto
 * endpoint and the cloud assembly directory with `inject` (support.ts,
 * deployed.ts). Where moto is not installed, nothing is synthesized and the
 * tests say why they skip.
 */
import type { TestProject } from 'vitest/node';
import { motoMissing, startMoto } from './moto';
import { synthesizeApp } from './synth';

declare module 'vitest' {
  export interface ProvidedContext {
    /** http://127.0.0.1:<port>, or '' when moto is not available. */
    motoEndpoint: string;
    motoMissing: string;
    /** The synthesized cloud assembly (a cdk.out directory), or '' when moto is not available. */
    cdkOut: string;
  }
}

export default async function setup(project: TestProject) {
  const missing = motoMissing();
  if (missing) {
    process.stderr.write(`\n${missing}\n`);
    project.provide('motoEndpoint', '');
    project.provide('motoMissing', missing);
    project.provide('cdkOut', '');
    return;
  }
  const [moto, app] = await Promise.allSettled([startMoto(), synthesizeApp()]);
  if (moto.status === 'rejected' || app.status === 'rejected') {
    if (moto.status === 'fulfilled') moto.value.stop();
    throw moto.status === 'rejected' ? moto.reason : (app as PromiseRejectedResult).reason;
  }
  process.stderr.write(
    app.value.seconds > 0
      ? `\ncdk synth for the integration tier: ${app.value.seconds.toFixed(1)} s\n`
      : `\ncdk synth for the integration tier: reused ${app.value.outdir} (inputs unchanged)\n`,
  );
  project.provide('motoEndpoint', moto.value.endpoint);
  project.provide('motoMissing', '');
  project.provide('cdkOut', app.value.outdir);
  return () => {
    moto.value.stop();
  };
}
