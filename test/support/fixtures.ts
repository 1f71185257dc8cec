/**
 * The sample findings in test/fixtures/findings (copied from
 * ../shared/fixtures so a clean clone has them), and builders for the events
 * EventBridge delivers around them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  CUSTOM_ACTION_DETAIL_TYPE,
  IMPORTED_DETAIL_TYPE,
  SECURITY_HUB_SOURCE,
} from '../../lambdas/core/intake/asff';

export const FIXTURE_DIR = path.resolve(import.meta.dirname, '..', 'fixtures', 'findings');
export const ACCOUNT = '111111111111';
export const REGION = 'us-east-1';
export const SELF = { account: ACCOUNT, region: REGION } as const;
export const REMEDIATE_ACTION_ARN = `arn:aws:securityhub:${REGION}:${ACCOUNT}:action/custom/HubfixRemediate`;
export const PLAN_ACTION_ARN = `arn:aws:securityhub:${REGION}:${ACCOUNT}:action/custom/HubfixPlan`;
export const ACTIONS = { remediate: REMEDIATE_ACTION_ARN, plan: PLAN_ACTION_ARN } as const;

export type Json = Record<string, unknown>;

export function readJson(file: string): Json {
  return JSON.parse(readFileSync(path.join(FIXTURE_DIR, file), 'utf8')) as Json;
}

export function fixtureFiles(): string[] {
  return readdirSync(FIXTURE_DIR).filter((f) => f.endsWith('.json'));
}

export function isEnvelope(json: Json): boolean {
  return typeof json['detail-type'] === 'string';
}

/** The findings a fixture holds, whether it is a bare finding or a whole event. */
export function findingsOf(json: Json): Json[] {
  if (!isEnvelope(json)) return [json];
  const detail = json.detail as { findings: Json[] };
  return detail.findings;
}

/** A deep copy with `changes` applied at dotted paths, e.g. `{'Workflow.Status': 'NOTIFIED'}`. */
export function withChanges<T extends Json>(source: T, changes: Record<string, unknown>): T {
  const copy = structuredClone(source);
  for (const [dotted, value] of Object.entries(changes)) {
    const keys = dotted.split('.');
    let cursor: Json = copy;
    for (const key of keys.slice(0, -1)) {
      const next = cursor[key];
      if (typeof next !== 'object' || next === null) cursor[key] = {};
      cursor = cursor[key] as Json;
    }
    const last = keys.at(-1) as string;
    if (value === undefined) delete cursor[last];
    else cursor[last] = value;
  }
  return copy;
}

export function importedEvent(findings: readonly Json[], overrides: Json = {}): Json {
  return {
    version: '0',
    id: '11111111-2222-3333-4444-555555555555',
    'detail-type': IMPORTED_DETAIL_TYPE,
    source: SECURITY_HUB_SOURCE,
    account: ACCOUNT,
    time: '2026-11-22T10:00:00Z',
    region: REGION,
    resources: findings.flatMap((f) =>
      typeof f === 'object' && f !== null && typeof f.Id === 'string' ? [f.Id] : [],
    ),
    detail: { findings },
    ...overrides,
  };
}

export function customActionEvent(
  findings: readonly Json[],
  actionArn: string = REMEDIATE_ACTION_ARN,
  overrides: Json = {},
): Json {
  return {
    version: '0',
    id: '66666666-7777-8888-9999-000000000000',
    'detail-type': CUSTOM_ACTION_DETAIL_TYPE,
    source: SECURITY_HUB_SOURCE,
    account: ACCOUNT,
    time: '2026-11-22T10:00:00Z',
    region: REGION,
    resources: [actionArn],
    detail: { actionName: 'Remediate', actionDescription: 'hubfix', findings },
    ...overrides,
  };
}

export const EC2_2_FINDING = readJson('asr-ec2.2-finding.json');
export const EC2_2_GROUP_ID = 'sg-1234123f';
