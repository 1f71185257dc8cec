import { readJson } from '../../test/support/fixtures';
import { NO_WAIT_CLOCK, type Scenario } from '../scenario';

const finding = readJson('asr-ec2.1-finding.json');

// The fixture's annotation counts two public snapshots.
const PUBLIC_SNAPSHOTS = [
  {
    SnapshotId: 'snap-0a1b2c3d4e5f60718',
    VolumeId: 'vol-0a1b2c3d4e5f60718',
    VolumeSize: 8,
    Description: 'nightly backup',
  },
  { SnapshotId: 'snap-0f1e2d3c4b5a69788', VolumeId: 'vol-ffffffff', VolumeSize: 100 },
];

export const scenario: Scenario = {
  finding,
  // The control paces ModifySnapshotAttribute at EC2's 5 a second; against canned answers it need not.
  clock: NO_WAIT_CLOCK,
  // An account has no EC2 tags: the control reads them as none, so `tags` is
  // ignored, so the scenario has no suppress outcome (see Scenario.minimum).
  answers: () => ({
    ec2: {
      // Read: two public snapshots; verify after the change: none left.
      DescribeSnapshots: [{ Snapshots: PUBLIC_SNAPSHOTS }, { Snapshots: [] }],
      ModifySnapshotAttribute: {},
    },
  }),
  minimum: {
    remediate: {
      resourceCalls: 4,
      why: 'list the public snapshots (1); remove group "all" from each, one call per snapshot (2); list again to verify none is left (1). With the default blockPublicAccess "off" no block-public-access call is needed',
    },
    notify: {
      resourceCalls: 1,
      why: 'list the public snapshots, to say which a fix would make private (1)',
    },
  },
};
