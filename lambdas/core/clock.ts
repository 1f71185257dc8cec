/**
 * Time, passed in rather than read: controls wait on `ctx.clock`, so tests
 * run a two-minute wait in no real time and the pipeline can time a stage.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  sleep(milliseconds: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)),
};
