/**
 * Routing: the synthesized EventBridge rules, matched against real sample
 * findings with a matcher that follows EventBridge's documented semantics.
 * The matrix comes from the registry, so a new control is covered as soon as
 * it is registered.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IMPORTED_V2_DETAIL_TYPE } from '../../lambdas/core/intake/ocsf';
import { CONTROLS } from '../../lib/controls';
import {
  ACCOUNT,
  customActionEvent,
  EC2_2_FINDING,
  findingsOf,
  fixtureFiles,
  importedEvent,
  isEnvelope,
  type Json,
  PLAN_ACTION_ARN,
  REMEDIATE_ACTION_ARN,
  readJson,
  withChanges,
} from '../support/fixtures';
import { resolveIntrinsics } from '../support/intrinsics';
import { coverageFinding, importedV2Event, ocsfFinding } from '../support/ocsf';
import { resourcesOf, synthesize } from '../support/stack';
import { matchesEventPattern } from './event-pattern';

interface RoutedRule {
  readonly name: string;
  readonly pattern: unknown;
}

const resources = resourcesOf(synthesize().template);
const controlOfFunction = new Map(
  Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .flatMap(([id, r]) => {
      const variables = (r.Properties.Environment as { Variables: { HUBFIX_SETTINGS?: string } })
        .Variables;
      // The reconciler is started by its schedule, not by a rule.
      if (variables.HUBFIX_SETTINGS === undefined) return [];
      return [
        [id, (JSON.parse(variables.HUBFIX_SETTINGS) as { controlId: string }).controlId] as const,
      ];
    }),
);
const RULES: RoutedRule[] = Object.values(resources)
  .filter((r) => r.Type === 'AWS::Events::Rule')
  .map((r) => {
    const pattern = resolveIntrinsics(r.Properties.EventPattern) as { 'detail-type': string[] };
    const [target] = r.Properties.Targets as { Arn: { 'Fn::GetAtt': [string, string] } }[];
    const control = controlOfFunction.get(target?.Arn['Fn::GetAtt'][0] ?? '');
    const detailType = pattern['detail-type'][0] ?? '';
    const kind = detailType.endsWith('Custom Action')
      ? 'custom-action'
      : detailType === IMPORTED_V2_DETAIL_TYPE
        ? 'imported-v2'
        : 'imported';
    return { name: `${control} ${kind}`, pattern };
  });

function routes(event: Json): string[] {
  return RULES.filter((rule) => matchesEventPattern(rule.pattern, event)).map((rule) => rule.name);
}

const registered = new Set(CONTROLS.map((c) => c.meta.id));

function controlOf(finding: Json): string {
  const compliance = finding.Compliance as { SecurityControlId?: string } | undefined;
  const fields = finding.ProductFields as { ControlId?: string } | undefined;
  return compliance?.SecurityControlId ?? fields?.ControlId ?? '(none)';
}

/** The same finding in the consolidated format: security-control generator, SecurityControlId only. */
function consolidated(finding: Json, controlId: string): Json {
  return withChanges(finding, {
    GeneratorId: `security-control/${controlId}`,
    'Compliance.SecurityControlId': controlId,
    'ProductFields.ControlId': undefined,
    'ProductFields.StandardsArn': undefined,
  });
}

/** A legacy per-standard finding of any control, built from the EC2.2 sample. */
function legacy(controlId: string): Json {
  return withChanges(EC2_2_FINDING, {
    GeneratorId: `aws-foundational-security-best-practices/v/1.0.0/${controlId}`,
    'ProductFields.ControlId': controlId,
  });
}

describe('routing of the sample findings', () => {
  it('has an imported-findings rule per Security Hub product and a custom-action rule per registered control', () => {
    expect(RULES.map((r) => r.name).sort()).toEqual(
      CONTROLS.flatMap((c) => [
        `${c.meta.id} custom-action`,
        `${c.meta.id} imported`,
        `${c.meta.id} imported-v2`,
      ]).sort(),
    );
  });

  it.each(fixtureFiles())("routes %s to its control's rule and only there", (file) => {
    // Prepare
    const json = readJson(file);
    const event = isEnvelope(json) ? json : importedEvent([json]);
    const [finding] = findingsOf(json);
    const control = finding ? controlOf(finding) : '(none)';
    const ours = finding?.AwsAccountId === ACCOUNT && registered.has(control);
    const isOurAction = (event.resources as string[]).some(
      (r) => r === REMEDIATE_ACTION_ARN || r === PLAN_ACTION_ARN,
    );
    const kind =
      event['detail-type'] === 'Security Hub Findings - Custom Action'
        ? 'custom-action'
        : 'imported';

    // Act
    const routed = routes(event);

    // Assess: a custom action of another tool is not hubfix's to take.
    expect(routed).toEqual(
      ours && (kind === 'imported' || isOurAction) ? [`${control} ${kind}`] : [],
    );
  });
});

describe.each([...registered])('routing matrix for %s', (controlId) => {
  const failed = legacy(controlId);

  it.each([
    ['legacy per-standard format', failed],
    ['consolidated format', consolidated(failed, controlId)],
    [
      'consolidated format that keeps ProductFields.ControlId',
      withChanges(failed, { 'Compliance.SecurityControlId': controlId }),
    ],
    ['HIGH severity', withChanges(failed, { 'Severity.Label': 'HIGH' })],
  ])('routes a new failed finding in the %s', (_name, finding) => {
    expect(routes(importedEvent([finding]))).toEqual([`${controlId} imported`]);
  });

  it.each([
    ['PASSED', { 'Compliance.Status': 'PASSED' }],
    ['WARNING', { 'Compliance.Status': 'WARNING' }],
    ['NOT_AVAILABLE', { 'Compliance.Status': 'NOT_AVAILABLE' }],
    ["NOTIFIED (hubfix's own update coming back)", { 'Workflow.Status': 'NOTIFIED' }],
    ['SUPPRESSED', { 'Workflow.Status': 'SUPPRESSED' }],
    ['RESOLVED', { 'Workflow.Status': 'RESOLVED' }],
    ['ARCHIVED', { RecordState: 'ARCHIVED' }],
    ['from GuardDuty', { ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty' }],
    [
      'from a third-party product',
      { ProductArn: 'arn:aws:securityhub:us-east-1:222222222222:product/222222222222/default' },
    ],
    [
      "from another region's Security Hub",
      { ProductArn: 'arn:aws:securityhub:eu-west-1::product/aws/securityhub' },
    ],
    [
      "of another account (an administrator account sees members' findings)",
      { AwsAccountId: '222222222222' },
    ],
  ])('routes nowhere when the finding is %s, in either format', (_name, changes) => {
    expect(routes(importedEvent([withChanges(failed, changes)]))).toEqual([]);
    expect(routes(importedEvent([withChanges(consolidated(failed, controlId), changes)]))).toEqual(
      [],
    );
  });

  it.each([
    [
      'a legacy finding with no control id',
      withChanges(failed, { 'ProductFields.ControlId': undefined }),
    ],
    [
      'a legacy finding of a similar id',
      withChanges(failed, { 'ProductFields.ControlId': `${controlId}999` }),
    ],
    ['a consolidated finding of a similar id', consolidated(failed, `${controlId}999`)],
    [
      'a finding with the id only in its title',
      withChanges(consolidated(failed, 'CloudTrail.2'), { Title: controlId }),
    ],
  ])('routes nowhere %s', (_name, finding) => {
    expect(routes(importedEvent([finding]))).toEqual([]);
  });

  it('needs every condition to hold in the same finding (array consistency)', () => {
    // A PASSED finding of this control next to a new failed finding of another control.
    const passed = withChanges(failed, { 'Compliance.Status': 'PASSED' });
    const otherFailed = legacy('CloudTrail.2');

    expect(routes(importedEvent([passed, otherFailed]))).toEqual([]);
    expect(routes(importedEvent([otherFailed, failed]))).toEqual([`${controlId} imported`]);
  });

  it.each([
    ['Remediate', REMEDIATE_ACTION_ARN],
    ['Plan', PLAN_ACTION_ARN],
  ])('routes the "%s" custom action whatever the workflow status', (_name, actionArn) => {
    for (const status of ['NEW', 'NOTIFIED', 'SUPPRESSED']) {
      const finding = withChanges(failed, { 'Workflow.Status': status });
      expect(routes(customActionEvent([finding], actionArn))).toEqual([
        `${controlId} custom-action`,
      ]);
      expect(routes(customActionEvent([consolidated(finding, controlId)], actionArn))).toEqual([
        `${controlId} custom-action`,
      ]);
    }
  });

  it('routes a custom action that mixes controls to each control involved', () => {
    const event = customActionEvent([legacy('CloudTrail.2'), failed]);

    expect(routes(event)).toEqual([`${controlId} custom-action`]);
  });

  it("routes nowhere a custom action that is not one of hubfix's", () => {
    const other = 'arn:aws:securityhub:us-east-1:111111111111:action/custom/SomeoneElse';

    expect(routes(customActionEvent([failed], other))).toEqual([]);
  });
});

const SHARED_V2_SAMPLE = path.resolve(
  import.meta.dirname,
  '../../../shared/fixtures/findings/ocsf-ssm.1-imported-v2-event.json',
);

describe('routing of the new Security Hub (OCSF) findings', () => {
  it.each([...registered])('routes a new failed %s finding to its control only', (controlId) => {
    expect(routes(importedV2Event(ocsfFinding(controlId)))).toEqual([`${controlId} imported-v2`]);
  });

  it.each([...registered])(
    'routes %s nowhere when the finding is passed, not New, closed, of another product, account or region, or of a similar id',
    (controlId) => {
      const fresh = ocsfFinding(controlId);
      const cases: Json[] = [
        withChanges(fresh, { 'compliance.status': 'Pass', 'compliance.status_id': 1 }),
        withChanges(fresh, { 'compliance.status': 'Warning', 'compliance.status_id': 2 }),
        withChanges(fresh, { status: 'In Progress', status_id: 2 }),
        withChanges(fresh, { status: 'Suppressed', status_id: 3 }),
        withChanges(fresh, { status: 'Resolved', status_id: 4 }),
        withChanges(fresh, { activity_id: 3, activity_name: 'Close' }),
        withChanges(fresh, {
          'metadata.product.uid': 'arn:aws:securityhub:us-east-1::productv2/aws/inspector',
        }),
        withChanges(fresh, {
          'metadata.product.uid': 'arn:aws:securityhub:eu-west-1::productv2/aws/securityhub',
        }),
        withChanges(fresh, { 'cloud.account.uid': '222222222222' }),
        withChanges(fresh, { 'compliance.control': `${controlId}999` }),
        withChanges(fresh, { class_uid: 2004 }),
      ];

      for (const finding of cases) expect(routes(importedV2Event(finding))).toEqual([]);
    },
  );

  it('routes a coverage finding (class 2003, no control) nowhere', () => {
    expect(routes(importedV2Event(coverageFinding()))).toEqual([]);
  });

  it('routes an ASFF finding sent under the V2 detail type nowhere, and an OCSF one under the CSPM type nowhere', () => {
    expect(
      routes(importedEvent([legacy('EC2.2')], { 'detail-type': IMPORTED_V2_DETAIL_TYPE })),
    ).toEqual([]);
    expect(routes(importedEvent([ocsfFinding('EC2.2')]))).toEqual([]);
  });

  it.skipIf(!existsSync(SHARED_V2_SAMPLE))(
    'routes the real SSM.1 sample nowhere: hubfix has no SSM.1 control, though it matches every other condition',
    () => {
      const sample = JSON.parse(readFileSync(SHARED_V2_SAMPLE, 'utf8')) as Json;
      const [finding] = (sample.detail as { findings: Json[] }).findings;
      if (!finding) throw new Error('the sample holds no finding');
      const asOurs = withChanges(finding, {
        'cloud.account.uid': ACCOUNT,
        'metadata.product.uid': 'arn:aws:securityhub:us-east-1::productv2/aws/securityhub',
      });

      expect(routes(sample)).toEqual([]);
      expect(
        routes(importedV2Event(withChanges(asOurs, { 'compliance.control': 'EC2.2' }))),
      ).toEqual(['EC2.2 imported-v2']);
    },
  );
});
