/**
 * EC2.7 — EBS encryption by default should be on.
 *
 * An account-level finding (`AWS::::Account:<id>`) about one region: the
 * setting is per region, and this function acts only in its own. It turns
 * encryption by default on and reads it back.
 *
 * An account has no EC2 tags, so the resource's tags read as none: owners
 * cannot opt an account out by tag. The allow-list's `accountIds` and the
 * control's mode (or `off`) decide instead.
 */
import {
  DisableEbsEncryptionByDefaultCommand,
  EC2Client,
  EnableEbsEncryptionByDefaultCommand,
  GetEbsEncryptionByDefaultCommand,
} from '@aws-sdk/client-ec2';
import type { Control } from '../../core/control';
import { describeError, PartialChangeError } from '../../core/errors';
import { accountResource } from '../../core/resource';
import { boolean, object, string } from '../../core/schema';
import { assertRollbackRegion } from '../../services/ec2/region';
import { verifyEventually } from '../../services/wait';
import { type Ec2_7Params, ec2_7Meta } from './meta';

export interface Ec2_7Clients {
  readonly ec2: EC2Client;
}

export interface EbsDefaultEncryptionState {
  readonly account: string;
  readonly region: string;
  readonly enabled: boolean;
}

export const ec2_7Before = object({
  account: string({ pattern: /^\d{12}$/, patternName: 'a 12-digit account id' }),
  region: string({ minLength: 1 }),
  /** Encryption by default before hubfix turned it on. */
  enabled: boolean(),
});

export interface Ec2_7Before {
  readonly account: string;
  readonly region: string;
  readonly enabled: boolean;
}

async function encryptionByDefault(ec2: EC2Client): Promise<boolean> {
  const response = await ec2.send(new GetEbsEncryptionByDefaultCommand({}));
  if (response.EbsEncryptionByDefault === undefined) {
    throw new Error('EC2 did not say whether EBS encryption by default is on');
  }
  return response.EbsEncryptionByDefault;
}

export const ec2_7: Control<EbsDefaultEncryptionState, Ec2_7Before, Ec2_7Params, Ec2_7Clients> = {
  ...ec2_7Meta,
  resource: accountResource(),
  before: ec2_7Before,

  createClients: (options) => ({ ec2: new EC2Client(options) }),

  async readState(ref, { clients: { ec2 } }) {
    return {
      kind: 'found',
      state: { account: ref.account, region: ref.region, enabled: await encryptionByDefault(ec2) },
      tags: {},
    };
  },

  plan(state) {
    const where = `account ${state.account} in ${state.region}`;
    if (state.enabled) {
      return { kind: 'compliant', summary: `EBS encryption by default is already on for ${where}` };
    }
    return {
      kind: 'change',
      summary: `turn on EBS encryption by default for ${where}`,
      steps: [
        `turn on EBS encryption by default in ${state.region}: every EBS volume created from now on (and every copy of an unencrypted snapshot) is encrypted with the account's default EBS KMS key (aws/ebs unless it was changed). Existing volumes and snapshots stay as they are, other regions are not touched, and instance types without EBS encryption support (previous generation m1, m2, c1, t1…) can no longer be launched there`,
        `check with GetEbsEncryptionByDefault that it reads on`,
      ],
      before: { account: state.account, region: state.region, enabled: false },
      undo: [`aws ec2 disable-ebs-encryption-by-default --region ${state.region}`],
    };
  },

  async preflight() {
    return [];
  },

  async apply(_state, plan, { clients: { ec2 } }) {
    const region = plan.before.region;
    let confirmed: boolean | undefined;
    try {
      confirmed = (await ec2.send(new EnableEbsEncryptionByDefaultCommand({})))
        .EbsEncryptionByDefault;
    } catch (error) {
      throw new PartialChangeError(
        `turning on EBS encryption by default in ${region} failed: ${describeError(error)}`,
        'unchanged: EBS encryption by default is still off',
        { cause: error },
      );
    }
    if (confirmed !== true) {
      throw new PartialChangeError(
        `EC2 accepted the request but did not confirm EBS encryption by default in ${region}`,
        'unknown: check with `aws ec2 get-ebs-encryption-by-default`',
      );
    }
    return { changes: [`turned on EBS encryption by default in ${region}`] };
  },

  async verify(state, { clients: { ec2 }, clock }) {
    return verifyEventually(clock, async () =>
      (await encryptionByDefault(ec2))
        ? { ok: true }
        : { ok: false, reason: `EBS encryption by default still reads off in ${state.region}` },
    );
  },

  describeRollback({ account, region, enabled }) {
    return {
      target: { resourceId: account, account, region },
      calls: enabled
        ? []
        : [
            {
              service: 'ec2',
              action: 'DisableEbsEncryptionByDefault',
              resource: account,
              parameters: {},
              grants: {
                what: `new EBS volumes of account ${account} in ${region} are no longer encrypted unless their creator asks`,
                removed: 'EBS encryption by default',
              },
            },
          ],
    };
  },

  async rollback(before, { clients: { ec2 } }) {
    await assertRollbackRegion(ec2, before.region);
    if (before.enabled) {
      return [`EBS encryption by default was already on in ${before.region}; nothing to restore`];
    }
    await ec2.send(new DisableEbsEncryptionByDefaultCommand({}));
    return [
      `turned EBS encryption by default off again in ${before.region}: new volumes are no longer encrypted unless their creator asks`,
    ];
  },
};
