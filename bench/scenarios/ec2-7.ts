import { findingsOf, readJson } from '../../test/support/fixtures';
import type { Scenario } from '../scenario';

const [finding] = findingsOf(readJson('asr-ec2.7-imported-event.json'));
if (!finding) throw new Error('the EC2.7 fixture event holds no finding');

export const scenario: Scenario = {
  finding,
  // An account has no EC2 tags: the control reads them as none, so `tags` is
  // ignored, so the scenario has no suppress outcome (see Scenario.minimum).
  answers: () => ({
    ec2: {
      // Read: off; verify after the change: on.
      GetEbsEncryptionByDefault: [
        { EbsEncryptionByDefault: false },
        { EbsEncryptionByDefault: true },
      ],
      EnableEbsEncryptionByDefault: { EbsEncryptionByDefault: true },
    },
  }),
  minimum: {
    remediate: {
      resourceCalls: 3,
      why: 'read encryption by default (1); turn it on (1); read it back to verify (1)',
    },
    notify: {
      resourceCalls: 1,
      why: 'read encryption by default, to say whether a fix would turn it on (1)',
    },
  },
};
