/**
 * Account-level EC2 settings (EBS encryption by default, snapshot block
 * public access) and snapshot ids are per region. A rollback runs later, with
 * an operator's credentials and region; run in another region, it would
 * change that region's settings instead, so it must refuse.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import { RollbackRefusedError } from '../../core/errors';

/** @throws RollbackRefusedError when the client is not in the region the change was made in. */
export async function assertRollbackRegion(ec2: EC2Client, recorded: string): Promise<void> {
  const region = await ec2.config.region();
  if (region !== recorded) {
    throw new RollbackRefusedError(
      `the change was made in ${recorded}, but this rollback runs in ${region}; run it again with the region ${recorded}`,
    );
  }
}
