import { describe, expect, it } from 'vitest';
import { type ImportRun, importRunOf, runToRun } from '../../../bench/run-to-run';

const run: ImportRun = {
  generatedAt: '2026-12-01T10:00:00.000Z',
  load: { start: 0.5, end: 0.7 },
  method: 'pairs',
  rows: [
    {
      controlId: 'EC2.7',
      ratio: 1.1,
      spread: 0.02,
      repeats: [1.09, 1.11],
      handlerMs: 100,
      baselineMs: 90,
      samples: 32,
      verdict: 'PASS',
    },
  ],
};

describe('import runs kept from one bench run to the next', () => {
  it('reads back the run this bench wrote', () => {
    expect(importRunOf({ importRuns: [run] })).toEqual(run);
  });

  it('reads a results.json written before runs were kept, from its rows', () => {
    // Prepare: the shape of an older bench/results.json.
    const older = {
      generatedAt: '2026-12-01T07:14:56.070Z',
      rows: [
        {
          controlId: 'EC2.7',
          importTime: {
            handler: { ms: 102.8, repeats: [102, 103], spread: 0.01 },
            baseline: { ms: 91.2, repeats: [91, 91.4], spread: 0.004 },
            ratio: { ratio: 1.127, repeats: [1.146, 1.111], spread: 0.031 },
            verdict: 'PASS',
          },
        },
        { controlId: 'EC2.9' },
      ],
    };

    // Act
    const read = importRunOf(older);

    // Assess: what it holds; what it lacks is said, not made up.
    expect(read).toMatchObject({
      generatedAt: '2026-12-01T07:14:56.070Z',
      rows: [
        {
          controlId: 'EC2.7',
          ratio: 1.127,
          spread: 0.031,
          repeats: [1.146, 1.111],
          handlerMs: 102.8,
          baselineMs: 91.2,
          verdict: 'PASS',
        },
      ],
    });
    expect(read?.load).toBeUndefined();
    expect(read?.rows[0]?.samples).toBeNaN();
  });

  it.each([undefined, null, [], {}, { importRuns: [] }, { generatedAt: 'x', rows: [{}] }])(
    'finds no run in %j',
    (results) => {
      expect(importRunOf(results)).toBeUndefined();
    },
  );

  it('says how far each ratio moved, for the controls both runs measured', () => {
    const moved = runToRun(
      [
        { controlId: 'EC2.7', ratio: 1.155 },
        { controlId: 'EC2.8', ratio: 1.05 },
      ],
      run,
    );

    expect([...moved.keys()]).toEqual(['EC2.7']);
    expect(moved.get('EC2.7')).toBeCloseTo(0.05);
    expect(runToRun([{ controlId: 'EC2.7', ratio: 1 }], undefined).size).toBe(0);
  });
});
