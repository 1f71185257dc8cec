/** Contexts for calling a control's functions directly in unit tests. */

import type { Clock } from '../../lambdas/core/clock';
import type { FindingContext, Log, RollbackContext } from '../../lambdas/core/control';
import { type Deadline, NO_DEADLINE } from '../../lambdas/core/deadline';
import type { Finding } from '../../lambdas/core/finding';
import { parseAsffFinding } from '../../lambdas/core/intake/asff';
import type { ResourceRef } from '../../lambdas/core/resource';
import { ACCOUNT, type Json, REGION } from './fixtures';

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

/** A typed finding from fixture JSON; throws if the JSON is not a valid finding. */
export function typedFinding(json: Json): Finding {
  const parsed = parseAsffFinding(json, 0);
  if (!parsed.ok) throw parsed.error;
  return parsed.finding;
}

/** An EC2 resource of the test account and region, as a control is handed it. */
export function ec2Ref(type: string, resourceType: string, id: string): ResourceRef {
  return {
    type,
    raw: `arn:aws:ec2:${REGION}:${ACCOUNT}:${resourceType}/${id}`,
    partition: 'aws',
    account: ACCOUNT,
    region: REGION,
    id,
  };
}

/** A clock that moves only when something sleeps: waits take no real time. */
export function fakeClock(start = Date.parse('2026-11-22T10:00:00Z')) {
  let now = start;
  const sleeps: number[] = [];
  const clock: Clock = {
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
  return { clock, sleeps };
}

export function findingContext<Clients, Params>(
  clients: Clients,
  params: Params,
  options: {
    finding?: Json;
    provisioned?: Readonly<Record<string, string>>;
    deadline?: Deadline;
    clock?: Clock;
  } = {},
): FindingContext<Clients, Params> {
  return {
    clients,
    params,
    finding: typedFinding(
      options.finding ?? {
        Id: 'finding-1',
        ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
        GeneratorId: 'security-control/TEST.1',
        AwsAccountId: '111111111111',
        UpdatedAt: '2026-11-22T10:00:00Z',
        Resources: [],
      },
    ),
    log: silentLog,
    provisioned: options.provisioned ?? {},
    deadline: options.deadline ?? NO_DEADLINE,
    clock: options.clock ?? fakeClock().clock,
  };
}

export function rollbackContext<Clients>(
  clients: Clients,
  provisioned: Readonly<Record<string, string>> = {},
  clock: Clock = fakeClock().clock,
): RollbackContext<Clients> {
  return { clients, log: silentLog, provisioned, clock };
}
