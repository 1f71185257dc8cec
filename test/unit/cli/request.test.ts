/**
 * `npx hubfix remediate` and `npx hubfix plan` through the CLI's real wiring
 * (realDeps: the SDK clients, the Security Hub adapter, DescribeStacks, the
 * Lambda invoker), every AWS client mocked strictly: the calls made, the
 * direct request sent, what is printed and the exit code, for each path.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import {
  GetFindingsCommand,
  GetFindingsV2Command,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { Uint8ArrayBlobAdapter } from '@smithy/core/serde';
import { beforeEach, describe, expect, it } from 'vitest';
import { realDeps } from '../../../lib/cli/aws';
import type { CliDeps } from '../../../lib/cli/command';
import { WAIT_INTERVAL_MS, WAIT_LIMIT_MS } from '../../../lib/cli/commands/request';
import { lookupsFor } from '../../../lib/cli/finding-id';
import { main } from '../../../lib/cli/main';
import { resetStrict, serviceError, strictMock } from '../../support/aws';
import { fakeClock } from '../../support/control';
import { ACCOUNT, EC2_2_FINDING, type Json, REGION, withChanges } from '../../support/fixtures';
import { ocsfFinding } from '../../support/ocsf';

const sts = strictMock(STSClient);
const securityHub = strictMock(SecurityHubClient);
const cloudFormation = strictMock(CloudFormationClient);
const lambda = strictMock(LambdaClient);

beforeEach(() => {
  resetStrict(sts);
  resetStrict(securityHub);
  resetStrict(cloudFormation);
  resetStrict(lambda);
});

const OPERATOR = `arn:aws:iam::${ACCOUNT}:user/ops`;
const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:Hubfix-Notifications1234`;
const FN_EC2_2 = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Hubfix-Controlec22HandlerFunction26F9C-xMpl3AbCdE9f`;
const FN_EC2_15 = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Hubfix-Controlec215HandlerFunction9E4AA-Gh1jKl4Mn0pQ`;
const CHANGE = 'EC2.2-0b6f6c1e-1111-4222-8333-444455556666';

/** The legacy (per-standard) ASFF finding: an Id only Security Hub CSPM knows. */
const ASFF_ID = String(EC2_2_FINDING.Id);
const PRODUCT = String(EC2_2_FINDING.ProductArn);
const SG_ARN = `arn:aws:ec2:${REGION}:${ACCOUNT}:security-group/sg-1234123f`;
/** A new Security Hub finding: finding_info.uid is a control-finding ARN, metadata.uid hex. */
const OCSF = ocsfFinding('EC2.15');
const OCSF_UID = (OCSF.finding_info as { uid: string }).uid;
const OCSF_METADATA_UID = (OCSF.metadata as { uid: string }).uid;

function cli() {
  const out: string[] = [];
  const err: string[] = [];
  const { clock, sleeps } = fakeClock();
  let requests = 0;
  const deps: CliDeps = {
    ...realDeps(),
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    env: { AWS_REGION: REGION },
    profileRegion: async () => undefined,
    newRequestId: () => `request-${++requests}`,
    clock,
  };
  return { deps, out, err, sleeps };
}

function signedIn() {
  sts.on(GetCallerIdentityCommand, {}, true).resolves({
    UserId: 'AIDAEXAMPLEOPS',
    Account: ACCOUNT,
    Arn: OPERATOR,
  });
}

function byId(id: string, nextToken?: string) {
  return {
    Filters: { Id: [{ Value: id, Comparison: 'EQUALS' as const }] },
    MaxResults: 1,
    NextToken: nextToken,
  };
}

/**
 * GetFindings by Id, as Security Hub CSPM answers it: the finding or none;
 * `afterEmptyPage`: first a filtered page with nothing on it but a NextToken.
 */
function cspmHolds(id: string, finding: Json | undefined, afterEmptyPage = false) {
  const found = { Findings: finding ? [finding as never] : [] };
  if (afterEmptyPage) {
    securityHub.on(GetFindingsCommand, byId(id), true).resolves({ Findings: [], NextToken: 'p2' });
    securityHub.on(GetFindingsCommand, byId(id, 'p2'), true).resolves(found);
  } else securityHub.on(GetFindingsCommand, byId(id), true).resolves(found);
}

/** GetFindingsV2 by one uid field, as the new Security Hub answers it. */
function v2Holds(
  field: 'finding_info.uid' | 'metadata.uid',
  uid: string,
  finding: Json | undefined,
) {
  securityHub
    .on(
      GetFindingsV2Command,
      {
        Filters: {
          CompositeFilters: [
            { StringFilters: [{ FieldName: field, Filter: { Value: uid, Comparison: 'EQUALS' } }] },
          ],
        },
        MaxResults: 1,
        NextToken: undefined,
      },
      true,
    )
    .resolves({ Findings: finding ? [finding as never] : [] });
}

function stackOutputs(outputs: Record<string, string>) {
  cloudFormation.on(DescribeStacksCommand, { StackName: 'Hubfix' }, true).resolves({
    Stacks: [
      {
        StackName: 'Hubfix',
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date('2026-11-01T09:00:00Z'),
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({
          OutputKey,
          OutputValue,
        })),
      },
    ],
  });
}

function deployed() {
  stackOutputs({
    LedgerTableName: 'Hubfix-Ledger123',
    NotificationTopicArn: TOPIC,
    FunctionEC2Dot2: FN_EC2_2,
    FunctionEC2Dot15: FN_EC2_15,
  });
}

/** Signed in, the EC2.2 finding in Security Hub CSPM, the stack deployed: all but the invoke. */
function readyToAsk() {
  const t = cli();
  signedIn();
  cspmHolds(ASFF_ID, EC2_2_FINDING);
  deployed();
  return t;
}

/** Lambda's answer to a synchronous invoke: status 200, the JSON payload. */
function answered(payload: unknown, functionError?: string): InvokeCommandOutput {
  return {
    $metadata: { httpStatusCode: 200 },
    StatusCode: 200,
    ExecutedVersion: '$LATEST',
    ...(functionError ? { FunctionError: functionError } : {}),
    Payload: Uint8ArrayBlobAdapter.fromString(JSON.stringify(payload)),
  };
}

function functionAnswer(findings: Json[], counts: Partial<Record<string, number>> = {}) {
  return {
    eventId: 'request-1',
    status: 'processed',
    findings,
    rejected: 0,
    skipped: 0,
    duplicates: 0,
    handedOn: 0,
    ...counts,
  };
}

const REMEDIATED = {
  findingId: ASFF_ID,
  decision: 'REMEDIATE',
  outcome: 'REMEDIATED',
  reason: 'a person asked for a fix',
  note: `hubfix remediated and verified: revoke all 1 rules of the default security group sg-1234123f. Change ${CHANGE}. Undo steps are in the SNS notification.`,
  changeId: CHANGE,
};

/** What was sent to Lambda: the invoke's input with its payload read back. */
function invocations() {
  return lambda.commandCalls(InvokeCommand).map((call) => {
    const { Payload, ...input } = call.args[0].input;
    return { ...input, Payload: JSON.parse(new TextDecoder().decode(Payload as Uint8Array)) };
  });
}

function directRequest(request: 'remediate' | 'plan', findings: Json[], requestId = 'request-1') {
  return {
    type: 'hubfix.finding-request',
    requestId,
    request,
    origin: 'cli',
    by: OPERATOR,
    findings,
  };
}

describe('which lookups a finding id means', () => {
  it.each<[string, string, unknown[]]>([
    ['an ASFF Id of a per-standard finding', ASFF_ID, [{ format: 'asff', id: ASFF_ID }]],
    [
      'a consolidated control finding ARN: Security Hub CSPM first, then the new Security Hub',
      OCSF_UID,
      [
        { format: 'asff', id: OCSF_UID },
        { format: 'ocsf', uid: OCSF_UID },
      ],
    ],
    ['an OCSF metadata.uid (hex)', OCSF_METADATA_UID, [{ format: 'ocsf', uid: OCSF_METADATA_UID }]],
    [
      'any other Security Hub Id',
      'custom-finding-42',
      [{ format: 'asff', id: 'custom-finding-42' }],
    ],
  ])('%s', (_name, id, lookups) => {
    expect(lookupsFor(id)).toEqual(lookups);
  });
});

describe('npx hubfix remediate', () => {
  it("finds the finding, invokes its control's function with a person's request, prints the outcome", async () => {
    // Prepare
    const t = cli();
    signedIn();
    cspmHolds(ASFF_ID, EC2_2_FINDING, true);
    deployed();
    lambda
      .on(InvokeCommand, { FunctionName: FN_EC2_2, InvocationType: 'RequestResponse' })
      .resolves(answered(functionAnswer([REMEDIATED])));

    // Act
    const code = await main(['remediate', ASFF_ID], t.deps);

    // Assess
    expect(code).toBe(0);
    expect(invocations()).toEqual([
      {
        FunctionName: FN_EC2_2,
        InvocationType: 'RequestResponse',
        Payload: directRequest('remediate', [{ format: 'asff', id: ASFF_ID, productArn: PRODUCT }]),
      },
    ]);
    expect(t.out).toEqual([
      `asking the EC2.2 function Hubfix-Controlec22HandlerFunction26F9C-xMpl3AbCdE9f to fix 1 finding(s), as ${OPERATOR}...`,
      '',
      `EC2.2 finding ${ASFF_ID}`,
      `  resource  ${SG_ARN}`,
      '  decision  REMEDIATE: a person asked for a fix',
      '  outcome   REMEDIATED (fixed and verified)',
      `  note      ${REMEDIATED.note}`,
      `  more      npx hubfix show ${CHANGE}; the finding's note in Security Hub; the SNS message on ${TOPIC}`,
      '',
      '1 of 1 finding(s) fixed',
    ]);
    expect(t.err).toEqual([]);
  });

  it('says why nothing changed when the control is off, and exits 1', async () => {
    // Prepare
    const t = readyToAsk();
    lambda.on(InvokeCommand).resolves(
      answered(
        functionAnswer([
          {
            findingId: ASFF_ID,
            decision: 'IGNORE',
            outcome: 'IGNORED',
            reason: 'the control is switched off (mode "off")',
            note: 'hubfix ignored this finding: the control is switched off (mode "off").',
          },
        ]),
      ),
    );

    // Act
    const code = await main(['remediate', ASFF_ID], t.deps);

    // Assess
    expect(code).toBe(1);
    expect(t.out).toContain('  decision  IGNORE: the control is switched off (mode "off")');
    expect(t.out).toContain('  outcome   IGNORED (ignored: nothing was done)');
    expect(t.out).toContain(
      "  more      nothing was written to the finding or announced; the function's log group /aws/lambda/Hubfix-Controlec22HandlerFunction26F9C-xMpl3AbCdE9f says why",
    );
    expect(t.out.at(-1)).toBe('0 of 1 finding(s) fixed');
  });

  it('says Security Hub does not know a finding, and invokes nothing', async () => {
    // Prepare
    const t = cli();
    signedIn();
    cspmHolds(ASFF_ID, undefined);

    // Act
    const code = await main(['remediate', ASFF_ID], t.deps);

    // Assess
    expect(code).toBe(1);
    expect(t.err).toEqual([
      `hubfix: Security Hub does not know finding ${ASFF_ID} in ${REGION}`,
      'hubfix: nothing was asked of hubfix (1 of 1 unusable)',
    ]);
    expect(cloudFormation.calls()).toEqual([]);
    expect(lambda.calls()).toEqual([]);
  });

  it('invokes nothing when one of several findings is unknown, and points at the region an id names', async () => {
    // Prepare
    const t = cli();
    const elsewhere = ASFF_ID.replace(`:${REGION}:`, ':eu-west-1:');
    signedIn();
    cspmHolds(ASFF_ID, EC2_2_FINDING);
    cspmHolds(elsewhere, undefined);

    // Act
    const code = await main(['remediate', ASFF_ID, elsewhere], t.deps);

    // Assess
    expect(code).toBe(1);
    expect(t.err[0]).toBe(
      `hubfix: Security Hub does not know finding ${elsewhere} in ${REGION}; its id names eu-west-1: try --region eu-west-1`,
    );
    expect(lambda.calls()).toEqual([]);
  });

  it('says when Security Hub CSPM is not enabled in the region', async () => {
    // Prepare
    const t = cli();
    signedIn();
    securityHub
      .on(GetFindingsCommand)
      .rejects(
        serviceError(
          'InvalidAccessException',
          `Account ${ACCOUNT} is not subscribed to AWS Security Hub`,
        ),
      );

    // Act
    const code = await main(['remediate', ASFF_ID], t.deps);

    // Assess
    expect(code).toBe(1);
    expect(t.err[0]).toBe(
      `hubfix: Security Hub does not know finding ${ASFF_ID} in ${REGION} (Security Hub CSPM is not enabled here)`,
    );
  });

  it('refuses a finding that is not a control finding', async () => {
    // Prepare: a finding of another product, with no control.
    const t = cli();
    const guardDuty = withChanges(EC2_2_FINDING, {
      Id: 'arn:aws:guardduty:us-east-1:111111111111:detector/d1/finding/f1',
      ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty',
      GeneratorId: 'arn:aws:guardduty:us-east-1:111111111111:detector/d1',
      ProductFields: {},
      Compliance: undefined,
    });
    signedIn();
    cspmHolds(String(guardDuty.Id), guardDuty);

    // Act
    const code = await main(['remediate', String(guardDuty.Id)], t.deps);

    // Assess
    expect(code).toBe(1);
    expect(t.err[0]).toMatch(
      /^hubfix: arn:aws:guardduty:.* is not a Security Hub control finding hubfix handles: /,
    );
    expect(lambda.calls()).toEqual([]);
  });

  it.each<[string, Record<string, string> | 'no stack', string]>([
    [
      'no stack',
      'no stack',
      `hubfix: no stack Hubfix in ${REGION}: deploy hubfix there (npx cdk deploy), choose the region with --region, or name the stack with --stack <name>`,
    ],
    [
      'a stack deployed before the function outputs',
      { LedgerTableName: 'Hubfix-Ledger123' },
      `hubfix: stack Hubfix in ${REGION} names no control functions in its outputs: it was deployed by an older hubfix, or is not a hubfix stack. Deploy hubfix again (npx cdk deploy), or name the stack with --stack <name>`,
    ],
    [
      'a stack without this control',
      { LedgerTableName: 'Hubfix-Ledger123', FunctionEC2Dot15: FN_EC2_15 },
      `hubfix: EC2.2 is not deployed in stack Hubfix in ${REGION}: deploy it (npx cdk deploy), or name the stack with --stack <name>`,
    ],
  ])('finds no function with %s, says so, and invokes nothing', async (_name, outputs, message) => {
    // Prepare
    const t = cli();
    signedIn();
    cspmHolds(ASFF_ID, EC2_2_FINDING);
    if (outputs === 'no stack') {
      cloudFormation
        .on(DescribeStacksCommand, { StackName: 'Hubfix' }, true)
        .rejects(serviceError('ValidationError', 'Stack with id Hubfix does not exist'));
    } else stackOutputs(outputs);

    // Act
    const code = await main(['remediate', ASFF_ID], t.deps);

    // Assess
    expect(code).toBe(1);
    expect(t.err).toEqual([message]);
    expect(lambda.calls()).toEqual([]);
  });

  it('says hubfix has no such control for a finding of a control it does not handle', async () => {
    // Prepare
    const t = cli();
    const s3 = withChanges(EC2_2_FINDING, {
      Id: `arn:aws:securityhub:${REGION}:${ACCOUNT}:security-control/S3.1/finding/9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a`,
      GeneratorId: 'security-control/S3.1',
      'ProductFields.ControlId': 'S3.1',
    });
    signedIn();
    cspmHolds(String(s3.Id), s3);
    deployed();

    // Act
    const code = await main(['remediate', String(s3.Id)], t.deps);

    // Assess
    expect(code).toBe(1);
    expect(t.err[0]).toMatch(/^hubfix: hubfix has no control S3\.1 \(it handles EC2\.1, EC2\.2, /);
    expect(lambda.calls()).toEqual([]);
  });

  it("prints the function's own error message when it fails, and exits 1", async () => {
    // Prepare
    const t = readyToAsk();
    lambda.on(InvokeCommand).resolves(
      answered(
        {
          errorType: 'IncompleteDeliveryError',
          errorMessage: `1 finding(s) were processed but not fully delivered: ${ASFF_ID}: SNS publish failed`,
          trace: ['IncompleteDeliveryError: 1 finding(s) were processed', '    at processEvent'],
        },
        'Unhandled',
      ),
    );

    // Act
    const code = await main(['remediate', ASFF_ID], t.deps);

    // Assess
    expect(code).toBe(1);
    expect(t.err).toEqual([
      `hubfix: the function Hubfix-Controlec22HandlerFunction26F9C-xMpl3AbCdE9f failed: 1 finding(s) were processed but not fully delivered: ${ASFF_ID}: SNS publish failed`,
      "  what it did before it failed is in each finding's note, on SNS and in its log group /aws/lambda/Hubfix-Controlec22HandlerFunction26F9C-xMpl3AbCdE9f",
    ]);
    expect(t.out.at(-1)).toBe('0 of 1 finding(s) fixed');
  });

  it('says which permission is missing when Lambda refuses the invoke', async () => {
    // Prepare
    const t = readyToAsk();
    lambda
      .on(InvokeCommand)
      .rejects(
        Object.assign(
          serviceError(
            'AccessDeniedException',
            `User: ${OPERATOR} is not authorized to perform: lambda:InvokeFunction on resource: ${FN_EC2_2} because no identity-based policy allows the lambda:InvokeFunction action`,
          ),
          { $metadata: { httpStatusCode: 403 } },
        ),
      );

    // Act
    const code = await main(['remediate', ASFF_ID], t.deps);

    // Assess
    expect(code).toBe(1);
    expect(t.err).toEqual([
      `hubfix: you need lambda:InvokeFunction on ${FN_EC2_2} to ask hubfix (README: "Who can trigger a fix"); nothing was done`,
    ]);
  });

  it.each<[string, string | undefined, string]>([
    [
      'its reserved concurrency is in use',
      'ReservedFunctionConcurrentInvocationLimitExceeded',
      'hubfix: the function Hubfix-Controlec22HandlerFunction26F9C-xMpl3AbCdE9f is busy: all of its reserved concurrency is in use handling other findings. Nothing was done; try again in a minute',
    ],
    [
      "the account's rate is exceeded",
      'CallerRateLimitExceeded',
      'hubfix: Lambda is throttling the function Hubfix-Controlec22HandlerFunction26F9C-xMpl3AbCdE9f (CallerRateLimitExceeded). Nothing was done; try again in a minute',
    ],
  ])('says the function is throttled when %s', async (_name, reason, message) => {
    // Prepare: what is left after the SDK's own retries.
    const t = readyToAsk();
    lambda.on(InvokeCommand).rejects(
      Object.assign(serviceError('TooManyRequestsException', 'Rate Exceeded.'), {
        Reason: reason,
        retryAfterSeconds: '1',
        $metadata: { httpStatusCode: 429 },
      }),
    );

    // Act
    const code = await main(['remediate', ASFF_ID], t.deps);

    // Assess
    expect(code).toBe(1);
    expect(t.err).toEqual([message]);
  });

  it('says the function timed out, as Lambda reports it, and exits 1', async () => {
    // Prepare: Lambda's own error when the function runs out of time.
    const t = readyToAsk();
    lambda.on(InvokeCommand).resolves(
      answered(
        {
          errorType: 'Sandbox.Timedout',
          errorMessage:
            'RequestId: 5e8a2f0c-3b1d-4c6e-9f7a-0d2b4c6e8f1a Error: Task timed out after 900.00 seconds',
        },
        'Unhandled',
      ),
    );

    // Act
    const code = await main(['remediate', ASFF_ID], t.deps);

    // Assess
    expect(code).toBe(1);
    expect(t.err[0]).toBe(
      'hubfix: the function Hubfix-Controlec22HandlerFunction26F9C-xMpl3AbCdE9f failed: RequestId: 5e8a2f0c-3b1d-4c6e-9f7a-0d2b4c6e8f1a Error: Task timed out after 900.00 seconds',
    );
  });

  it('says the function named by the stack is gone', async () => {
    // Prepare: the output outlived the function (deleted by hand).
    const t = readyToAsk();
    lambda
      .on(InvokeCommand)
      .rejects(
        Object.assign(
          serviceError('ResourceNotFoundException', `Function not found: ${FN_EC2_2}`),
          { $metadata: { httpStatusCode: 404 } },
        ),
      );

    // Act
    const code = await main(['remediate', ASFF_ID], t.deps);

    // Assess
    expect(code).toBe(1);
    expect(t.err).toEqual([
      `hubfix: the function ${FN_EC2_2}, named by stack Hubfix's outputs, does not exist in ${REGION}: deploy hubfix again (npx cdk deploy), or name the stack with --stack <name>`,
    ]);
  });

  it.each<[string, () => void]>([
    [
      'CloudFormation (Throttling)',
      () => {
        cspmHolds(ASFF_ID, EC2_2_FINDING);
        cloudFormation
          .on(DescribeStacksCommand)
          .rejects(serviceError('Throttling', 'Rate exceeded'));
      },
    ],
    [
      'Security Hub (TooManyRequestsException)',
      () => {
        securityHub.on(GetFindingsCommand).rejects(
          Object.assign(serviceError('TooManyRequestsException', 'Rate exceeded'), {
            $metadata: { httpStatusCode: 429 },
          }),
        );
      },
    ],
    [
      'Security Hub (LimitExceededException)',
      () => {
        securityHub
          .on(GetFindingsCommand)
          .rejects(serviceError('LimitExceededException', 'Rate exceeded'));
      },
    ],
  ])('says so in words when %s throttles, and invokes nothing', async (_name, throttled) => {
    // Prepare: what is left after the SDK's own retries.
    const t = cli();
    signedIn();
    throttled();

    // Act
    const code = await main(['remediate', ASFF_ID], t.deps);

    // Assess
    expect(code).toBe(1);
    expect(t.err).toEqual(['hubfix: AWS is throttling these calls: wait a moment and try again']);
    expect(lambda.calls()).toEqual([]);
  });

  it('says the function is older than the CLI when it cannot read the request', async () => {
    // Prepare: a function from before direct requests rejects the event as malformed.
    const t = readyToAsk();
    lambda.on(InvokeCommand).resolves(
      answered({
        status: 'rejected',
        findings: [],
        rejected: 0,
        skipped: 0,
        duplicates: 0,
        handedOn: 0,
      }),
    );

    // Act
    const code = await main(['remediate', ASFF_ID], t.deps);

    // Assess
    expect(code).toBe(1);
    expect(t.err).toEqual([
      'hubfix: the function Hubfix-Controlec22HandlerFunction26F9C-xMpl3AbCdE9f did not accept the request: it is older than this CLI. Deploy hubfix again (npx cdk deploy)',
    ]);
  });

  it('says what happened to a finding the function handed to another invocation', async () => {
    // Prepare
    const t = readyToAsk();
    lambda.on(InvokeCommand).resolves(answered(functionAnswer([], { handedOn: 1 })));

    // Act
    const code = await main(['remediate', ASFF_ID], t.deps);

    // Assess
    expect(code).toBe(1);
    expect(t.out.slice(1)).toEqual([
      '',
      'not reported one by one by Hubfix-Controlec22HandlerFunction26F9C-xMpl3AbCdE9f:',
      `  ${ASFF_ID}`,
      "  1 handed to another invocation of the function, to keep this one within its time: the outcome will be in the finding's note and on SNS",
      '',
      '0 of 1 finding(s) fixed',
    ]);
  });

  it("shows control characters in the function's answer as escapes", async () => {
    // Prepare: the note quotes an owner's tag, which anyone who can tag may write.
    const t = readyToAsk();
    lambda.on(InvokeCommand).resolves(
      answered(
        functionAnswer([
          {
            findingId: ASFF_ID,
            decision: 'SUPPRESS',
            outcome: 'SUPPRESSED',
            reason: 'suppressed by tag hubfix:suppress: "ok\u001b[2J\u202e"',
            note: 'hubfix suppressed this finding: ok\u001b[2J\u202e.',
          },
        ]),
      ),
    );

    // Act
    await main(['remediate', ASFF_ID], t.deps);

    // Assess
    expect(t.out).toContain('  note      hubfix suppressed this finding: ok\\x1b[2J\\u202e.');
    expect(t.out.filter((line) => /\p{Cc}|\p{Cf}/u.test(line))).toEqual([]);
  });

  it('asks each control once for several findings, and exits 1 unless all are fixed', async () => {
    // Prepare: an ASFF finding of EC2.2 and a new Security Hub finding of EC2.15.
    const t = cli();
    signedIn();
    cspmHolds(ASFF_ID, EC2_2_FINDING);
    cspmHolds(OCSF_UID, undefined);
    v2Holds('finding_info.uid', OCSF_UID, OCSF);
    deployed();
    lambda
      .on(InvokeCommand, { FunctionName: FN_EC2_2 })
      .resolves(answered(functionAnswer([REMEDIATED])));
    lambda.on(InvokeCommand, { FunctionName: FN_EC2_15 }).resolves(
      answered(
        functionAnswer([
          {
            findingId: OCSF_UID,
            decision: 'NOTIFY',
            outcome: 'NOTIFIED',
            reason: 'the owner opted out with tag hubfix:auto-remediate=false',
            note: 'hubfix did not change anything: the owner opted out with tag hubfix:auto-remediate=false.',
          },
        ]),
      ),
    );

    // Act
    const code = await main(['remediate', ASFF_ID, OCSF_UID], t.deps);

    // Assess
    expect(code).toBe(1);
    expect(invocations().map((i) => [i.FunctionName, i.Payload])).toEqual([
      [
        FN_EC2_2,
        directRequest('remediate', [{ format: 'asff', id: ASFF_ID, productArn: PRODUCT }]),
      ],
      [FN_EC2_15, directRequest('remediate', [{ format: 'ocsf', uid: OCSF_UID }], 'request-2')],
    ]);
    expect(t.out).toContain('  outcome   NOTIFIED (not fixed: a person must act)');
    expect(t.out.at(-1)).toBe('1 of 2 finding(s) fixed');
  });

  it('explains a Security Hub permission it lacks, in words', async () => {
    // Prepare
    const t = cli();
    signedIn();
    securityHub
      .on(GetFindingsCommand)
      .rejects(
        serviceError(
          'AccessDeniedException',
          `User: ${OPERATOR} is not authorized to perform: securityhub:GetFindings on resource: arn:aws:securityhub:${REGION}:${ACCOUNT}:hub/default`,
        ),
      );

    // Act
    const code = await main(['remediate', ASFF_ID], t.deps);

    // Assess
    expect(code).toBe(1);
    expect(t.err).toEqual([
      `hubfix: your credentials may not call securityhub:GetFindings on arn:aws:securityhub:${REGION}:${ACCOUNT}:hub/default: ask for that permission, or use a profile that has it`,
    ]);
    expect(lambda.calls()).toEqual([]);
  });

  describe('--wait', () => {
    /** Once the function answered, the CLI asks for the finding as the function did: Id and product. */
    const afterFix = {
      Id: [{ Value: ASFF_ID, Comparison: 'EQUALS' as const }],
      ProductArn: [{ Value: PRODUCT, Comparison: 'EQUALS' as const }],
    };

    function fixed(t: ReturnType<typeof cli>) {
      signedIn();
      deployed();
      lambda.on(InvokeCommand).resolves(answered(functionAnswer([REMEDIATED])));
      return t;
    }

    it("waits for Security Hub's next check to pass, then exits 0", async () => {
      // Prepare: still FAILED at the first look, PASSED at the second.
      const t = fixed(cli());
      cspmHolds(ASFF_ID, EC2_2_FINDING);
      securityHub
        .on(GetFindingsCommand, { ...byId(ASFF_ID), Filters: afterFix }, true)
        .resolvesOnce({ Findings: [EC2_2_FINDING as never] })
        .resolvesOnce({
          Findings: [
            withChanges(EC2_2_FINDING, {
              'Compliance.Status': 'PASSED',
              'Workflow.Status': 'RESOLVED',
            }) as never,
          ],
        });

      // Act
      const code = await main(['remediate', ASFF_ID, '--wait'], t.deps);

      // Assess
      expect(code).toBe(0);
      expect(t.sleeps).toEqual([WAIT_INTERVAL_MS, WAIT_INTERVAL_MS]);
      expect(t.out.slice(-2)).toEqual([
        'waiting up to 15 minutes for Security Hub to check 1 finding(s) again...',
        `Security Hub confirms ${ASFF_ID}: PASSED`,
      ]);
    });

    it('exits 3 when Security Hub has not checked again within the limit', async () => {
      // Prepare
      const t = fixed(cli());
      cspmHolds(ASFF_ID, EC2_2_FINDING);
      securityHub
        .on(GetFindingsCommand, { ...byId(ASFF_ID), Filters: afterFix }, true)
        .resolves({ Findings: [EC2_2_FINDING as never] });

      // Act
      const code = await main(['remediate', ASFF_ID, '--wait'], t.deps);

      // Assess
      expect(code).toBe(3);
      expect(t.sleeps.reduce((a, b) => a + b, 0)).toBe(WAIT_LIMIT_MS);
      expect(t.out.at(-1)).toBe(
        `Security Hub has not checked ${ASFF_ID} again yet: hubfix verified its fix itself. Periodic controls are checked every 12 or 24 hours`,
      );
    });

    it('does not wait when the fix was not made', async () => {
      // Prepare
      const t = readyToAsk();
      lambda
        .on(InvokeCommand)
        .resolves(
          answered(
            functionAnswer([
              { ...REMEDIATED, decision: 'NOTIFY', outcome: 'BLOCKED', changeId: undefined },
            ]),
          ),
        );

      // Act
      const code = await main(['remediate', ASFF_ID, '--wait'], t.deps);

      // Assess
      expect(code).toBe(1);
      expect(t.sleeps).toEqual([]);
    });
  });
});

describe('npx hubfix plan', () => {
  it('finds a new Security Hub finding by its metadata.uid and asks for a plan', async () => {
    // Prepare
    const t = cli();
    signedIn();
    v2Holds('metadata.uid', OCSF_METADATA_UID, OCSF);
    deployed();
    lambda.on(InvokeCommand, { FunctionName: FN_EC2_15 }).resolves(
      answered(
        functionAnswer([
          {
            findingId: OCSF_UID,
            decision: 'PLAN',
            outcome: 'PLANNED',
            reason: 'a person asked for a plan',
            note: 'hubfix plan (a person asked for a plan). It would 1) turn off MapPublicIpOnLaunch on subnet-017e22c0195eb5ded',
          },
        ]),
      ),
    );

    // Act
    const code = await main(['plan', OCSF_METADATA_UID], t.deps);

    // Assess
    expect(code).toBe(0);
    expect(securityHub.commandCalls(GetFindingsCommand)).toEqual([]);
    expect(invocations()).toEqual([
      {
        FunctionName: FN_EC2_15,
        InvocationType: 'RequestResponse',
        Payload: directRequest('plan', [{ format: 'ocsf', uid: OCSF_UID }]),
      },
    ]);
    expect(t.out).toContain('  outcome   PLANNED (planned: nothing was changed)');
    expect(t.out.at(-1)).toBe('1 of 1 finding(s) planned');
  });

  it('asks once for a finding named by both of its ids', async () => {
    // Prepare
    const t = cli();
    signedIn();
    cspmHolds(OCSF_UID, undefined);
    v2Holds('finding_info.uid', OCSF_UID, OCSF);
    v2Holds('metadata.uid', OCSF_METADATA_UID, OCSF);
    deployed();
    lambda.on(InvokeCommand).resolves(answered(functionAnswer([])));

    // Act
    await main(['plan', OCSF_UID, OCSF_METADATA_UID], t.deps);

    // Assess
    expect(invocations().map((i) => i.Payload.findings)).toEqual([
      [{ format: 'ocsf', uid: OCSF_UID }],
    ]);
  });

  it.each<[string[], string]>([
    [['plan'], 'plan needs a finding id'],
    [['remediate', ''], 'a finding id is empty'],
    [['remediate', 'x'.repeat(513)], 'a finding id is at most 512 characters; one has 513'],
    [['plan', ASFF_ID, '--wait'], "Unknown option '--wait'"],
  ])('%j is bad usage: exit 2, no AWS call', async (argv, message) => {
    const t = cli();

    expect(await main(argv, t.deps)).toBe(2);
    expect(t.err[0]).toContain(message);
    for (const stub of [sts, securityHub, cloudFormation, lambda]) expect(stub.calls()).toEqual([]);
  });
});

describe('--json', () => {
  /** The one document printed on stdout, read back. */
  function document(out: readonly string[]) {
    expect(out).toHaveLength(1);
    return JSON.parse(out[0] ?? '');
  }

  it('prints one document: an entry per finding, and nothing for a person', async () => {
    // Prepare
    const t = readyToAsk();
    lambda.on(InvokeCommand).resolves(answered(functionAnswer([REMEDIATED])));

    // Act
    const code = await main(['remediate', ASFF_ID, '--json'], t.deps);

    // Assess
    expect(code).toBe(0);
    expect(document(t.out)).toEqual({
      request: 'remediate',
      region: REGION,
      stack: 'Hubfix',
      by: OPERATOR,
      total: 1,
      done: 1,
      findings: [
        {
          id: ASFF_ID,
          findingId: ASFF_ID,
          controlId: 'EC2.2',
          function: FN_EC2_2,
          resource: SG_ARN,
          status: 'reported',
          decision: 'REMEDIATE',
          reason: 'a person asked for a fix',
          outcome: 'REMEDIATED',
          note: REMEDIATED.note,
          changeId: CHANGE,
          done: true,
        },
      ],
    });
    expect(t.err).toEqual([]);
  });

  it('gives each finding its own status: reported, handed on, or not run because its function is busy', async () => {
    // Prepare: two findings of EC2.2 (one reported, one handed on) and one of EC2.15 (throttled).
    const t = cli();
    const second = withChanges(EC2_2_FINDING, {
      Id: ASFF_ID.replace(/finding\/.*$/, 'finding/7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d'),
    });
    signedIn();
    cspmHolds(ASFF_ID, EC2_2_FINDING);
    cspmHolds(String(second.Id), second);
    cspmHolds(OCSF_UID, undefined);
    v2Holds('finding_info.uid', OCSF_UID, OCSF);
    deployed();
    lambda
      .on(InvokeCommand, { FunctionName: FN_EC2_2 })
      .resolves(answered(functionAnswer([REMEDIATED], { handedOn: 1 })));
    lambda.on(InvokeCommand, { FunctionName: FN_EC2_15 }).rejects(
      Object.assign(serviceError('TooManyRequestsException', 'Rate Exceeded.'), {
        Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
        $metadata: { httpStatusCode: 429 },
      }),
    );

    // Act
    const code = await main(['remediate', ASFF_ID, String(second.Id), OCSF_UID, '--json'], t.deps);

    // Assess
    expect(code).toBe(1);
    const { findings, total, done } = document(t.out);
    expect([total, done]).toEqual([3, 1]);
    expect(findings.map((f: Json) => [f.id, f.status, f.message])).toEqual([
      [ASFF_ID, 'reported', undefined],
      [
        second.Id,
        'not-reported',
        "1 handed to another invocation of the function, to keep this one within its time: the outcome will be in the finding's note and on SNS",
      ],
      [
        OCSF_UID,
        'not-run',
        'the function Hubfix-Controlec215HandlerFunction9E4AA-Gh1jKl4Mn0pQ is busy: all of its reserved concurrency is in use handling other findings. Nothing was done; try again in a minute',
      ],
    ]);
    expect(t.err).toEqual([]);
  });

  it('reports a function that failed, by finding', async () => {
    // Prepare
    const t = readyToAsk();
    lambda
      .on(InvokeCommand)
      .resolves(
        answered({ errorType: 'Error', errorMessage: 'boom', trace: ['Error: boom'] }, 'Unhandled'),
      );

    // Act
    const code = await main(['plan', ASFF_ID, '--json'], t.deps);

    // Assess
    expect(code).toBe(1);
    expect(document(t.out).findings).toEqual([
      {
        id: ASFF_ID,
        findingId: ASFF_ID,
        controlId: 'EC2.2',
        function: FN_EC2_2,
        resource: SG_ARN,
        status: 'function-failed',
        message: 'the function Hubfix-Controlec22HandlerFunction26F9C-xMpl3AbCdE9f failed: boom',
      },
    ]);
  });

  it('says which findings Security Hub does not know, and that the others were not asked', async () => {
    // Prepare
    const t = cli();
    const unknown = ASFF_ID.replace(/finding\/.*$/, 'finding/00000000-0000-4000-8000-000000000000');
    signedIn();
    cspmHolds(ASFF_ID, EC2_2_FINDING);
    cspmHolds(unknown, undefined);

    // Act
    const code = await main(['plan', ASFF_ID, unknown, '--json'], t.deps);

    // Assess
    expect(code).toBe(1);
    expect(document(t.out).findings).toEqual([
      {
        id: unknown,
        status: 'not-found',
        message: `Security Hub does not know finding ${unknown} in ${REGION}`,
      },
      {
        id: ASFF_ID,
        status: 'not-asked',
        message: 'nothing was asked of hubfix (1 of 2 unusable)',
      },
    ]);
    expect(lambda.calls()).toEqual([]);
  });

  it("escapes control and format characters in the function's words, and reads back the same", async () => {
    // Prepare
    const t = cli();
    const note = 'hubfix suppressed this finding: ok\u001b[2J\u202e\u0085.';
    signedIn();
    cspmHolds(ASFF_ID, EC2_2_FINDING);
    deployed();
    lambda
      .on(InvokeCommand)
      .resolves(
        answered(
          functionAnswer([
            { findingId: ASFF_ID, decision: 'SUPPRESS', outcome: 'SUPPRESSED', note },
          ]),
        ),
      );

    // Act
    await main(['plan', ASFF_ID, '--json'], t.deps);

    // Assess
    expect(t.out[0]).toContain('ok\\u001b[2J\\u202e\\u0085.');
    expect(t.out.filter((line) => /\p{Cc}|\p{Cf}/u.test(line))).toEqual([]);
    expect(document(t.out).findings[0].note).toBe(note);
  });

  it("with --wait, says per finding whether Security Hub's next check confirmed the fix", async () => {
    // Prepare
    const t = readyToAsk();
    lambda.on(InvokeCommand).resolves(answered(functionAnswer([REMEDIATED])));
    securityHub
      .on(
        GetFindingsCommand,
        {
          ...byId(ASFF_ID),
          Filters: {
            Id: [{ Value: ASFF_ID, Comparison: 'EQUALS' }],
            ProductArn: [{ Value: PRODUCT, Comparison: 'EQUALS' }],
          },
        },
        true,
      )
      .resolves({ Findings: [EC2_2_FINDING as never] });

    // Act
    const code = await main(['remediate', ASFF_ID, '--wait', '--json'], t.deps);

    // Assess
    expect(code).toBe(3);
    expect(document(t.out).findings[0]).toMatchObject({
      status: 'reported',
      done: true,
      confirmedBySecurityHub: false,
    });
  });

  it('leaves an error that stops the command in words on stderr, stdout empty', async () => {
    // Prepare
    const t = cli();
    signedIn();
    cspmHolds(ASFF_ID, EC2_2_FINDING);
    cloudFormation
      .on(DescribeStacksCommand, { StackName: 'Hubfix' }, true)
      .rejects(serviceError('ValidationError', 'Stack with id Hubfix does not exist'));

    // Act
    const code = await main(['remediate', ASFF_ID, '--json'], t.deps);

    // Assess
    expect(code).toBe(1);
    expect(t.out).toEqual([]);
    expect(t.err[0]).toMatch(/^hubfix: no stack Hubfix in /);
  });
});
