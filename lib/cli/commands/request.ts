/**
 * `npx hubfix remediate <finding-id>...` and `npx hubfix plan <finding-id>...`:
 * a person's request for a fix or a plan, without Security Hub custom actions
 * (the new Security Hub has none). The CLI finds each finding in Security
 * Hub with the caller's credentials to learn its control, finds that
 * control's function among the stack's outputs, invokes it synchronously
 * with a direct request, and prints what the function answered.
 *
 * The request names findings only: the function fetches each one from
 * Security Hub again and decides as for any finding, so a person's request
 * lifts notify mode but honours mode off, the owner's tags, a notify-only
 * control, dry run and the allow-list (unless customActions.overrideAllowList),
 * as the custom action "Remediate" does. Invoking a function proves nothing.
 *
 * What comes of each finding is gathered as data first (`FindingResult`),
 * then printed for a person, or as one JSON document with `--json`.
 */
import { FunctionLocationError, UsageError } from '../../../lambdas/core/errors';
import { type Finding, findingKey } from '../../../lambdas/core/finding';
import {
  DIRECT_REQUEST_MARKER,
  type DirectRequest,
  MAX_FINDINGS_PER_REQUEST,
} from '../../../lambdas/core/intake/direct';
import { lookupOf } from '../../../lambdas/core/intake/types';
import { waitFor } from '../../../lambdas/services/wait';
import { CONTROLS, findControl } from '../../controls';
import { FUNCTION_OUTPUT_PREFIX, functionOutputKey, TOPIC_OUTPUT } from '../../stack-outputs';
import { type Command, type CommandContext, flag } from '../command';
import { explainError } from '../explain';
import { locateFinding, regionOfArn } from '../finding-id';
import { type FunctionAnswer, functionAnswerSchema, type InvokeAnswer } from '../invoke';
import { jsonLine } from '../text';

type RequestKind = 'remediate' | 'plan';

/** The longest id a direct request carries (lambdas/core/intake/direct.ts). */
const MAX_ID_LENGTH = 512;

/** How long `--wait` waits for Security Hub to check a fixed finding again, and how often it looks. */
export const WAIT_LIMIT_MS = 15 * 60_000;
export const WAIT_INTERVAL_MS = 30_000;

/** Exit codes, as the help states them. */
export const EXIT = { done: 0, notDone: 1, usage: 2, unconfirmed: 3 } as const;

/** What counts as done: a fix (or nothing to fix), or a plan (or nothing to plan). */
const DONE: Readonly<Record<RequestKind, readonly string[]>> = {
  remediate: ['REMEDIATED', 'ALREADY_COMPLIANT'],
  plan: ['PLANNED', 'ALREADY_COMPLIANT'],
};

/** Each outcome in a few words; the note the function wrote says the rest. */
const OUTCOME_WORDS: Readonly<Record<string, string>> = {
  REMEDIATED: 'fixed and verified',
  ALREADY_COMPLIANT: 'already compliant: nothing to fix',
  PLANNED: 'planned: nothing was changed',
  NOTIFIED: 'not fixed: a person must act',
  BLOCKED: 'not fixed: something makes the fix unsafe',
  FAILED: 'the fix failed',
  SUPPRESSED: "suppressed by its owner's tag",
  IGNORED: 'ignored: nothing was done',
  DEFERRED: 'nothing changed yet: hubfix will look again',
  DRIFTED: 'not fixed again: an earlier fix did not hold',
};

interface Located {
  /** The id as the person typed it. */
  readonly id: string;
  readonly finding: Finding;
  readonly controlId: string;
}

export function findingIdsOf(positionals: readonly string[], command: RequestKind): string[] {
  if (positionals.length === 0) {
    throw new UsageError(
      `${command} needs a finding id: its ASFF Id, or the new Security Hub's finding_info.uid or metadata.uid`,
    );
  }
  for (const id of positionals) {
    if (id.trim() === '') throw new UsageError('a finding id is empty');
    if (id.length > MAX_ID_LENGTH) {
      throw new UsageError(
        `a finding id is at most ${MAX_ID_LENGTH} characters; one has ${id.length}`,
      );
    }
  }
  return [...new Set(positionals)];
}

/**
 * The function of each control, from the stack's outputs.
 * @throws FunctionLocationError naming what is missing and what to do.
 */
export function functionsFor(
  outputs: Readonly<Record<string, string>> | undefined,
  controlIds: readonly string[],
  where: { readonly stack: string; readonly region: string },
): Map<string, string> {
  const { stack, region } = where;
  if (outputs === undefined) {
    throw new FunctionLocationError(
      `no stack ${stack} in ${region}: deploy hubfix there (npx cdk deploy), choose the region with --region, or name the stack with --stack <name>`,
    );
  }
  const deployed = Object.keys(outputs).filter((key) => key.startsWith(FUNCTION_OUTPUT_PREFIX));
  if (deployed.length === 0) {
    throw new FunctionLocationError(
      `stack ${stack} in ${region} names no control functions in its outputs: it was deployed by an older hubfix, or is not a hubfix stack. Deploy hubfix again (npx cdk deploy), or name the stack with --stack <name>`,
    );
  }
  const functions = new Map<string, string>();
  const problems: string[] = [];
  for (const controlId of controlIds) {
    const arn = outputs[functionOutputKey(controlId)];
    if (arn) functions.set(controlId, arn);
    else if (!findControl(controlId)) {
      problems.push(
        `hubfix has no control ${controlId} (it handles ${CONTROLS.map((c) => c.meta.id).join(', ')})`,
      );
    } else {
      problems.push(
        `${controlId} is not deployed in stack ${stack} in ${region}: deploy it (npx cdk deploy), or name the stack with --stack <name>`,
      );
    }
  }
  if (problems.length > 0) throw new FunctionLocationError(problems.join('; '));
  return functions;
}

function functionName(functionArn: string): string {
  return functionArn.split(':function:')[1]?.split(':')[0] ?? functionArn;
}

/** Why Lambda did not run the function, in words; nothing was done in each case. */
function invokeRefusal(error: unknown, functionArn: string, context: CommandContext): string {
  const name = error instanceof Error ? error.name : '';
  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    return `you need lambda:InvokeFunction on ${functionArn} to ask hubfix (README: "Who can trigger a fix"); nothing was done`;
  }
  if (name === 'TooManyRequestsException') {
    const reason = (error as { Reason?: unknown }).Reason;
    return reason === 'ReservedFunctionConcurrentInvocationLimitExceeded'
      ? `the function ${functionName(functionArn)} is busy: all of its reserved concurrency is in use handling other findings. Nothing was done; try again in a minute`
      : `Lambda is throttling the function ${functionName(functionArn)}${typeof reason === 'string' ? ` (${reason})` : ''}. Nothing was done; try again in a minute`;
  }
  if (name === 'ResourceNotFoundException') {
    return `the function ${functionArn}, named by stack ${context.stack}'s outputs, does not exist in ${context.region}: deploy hubfix again (npx cdk deploy), or name the stack with --stack <name>`;
  }
  return explainError(error, { region: context.region });
}

/** Where a person reads more about one outcome. */
function readMore(
  outcome: string,
  changeId: string | undefined,
  topic: string | undefined,
  functionArn: string,
): string {
  if (outcome === 'IGNORED') {
    return `nothing was written to the finding or announced; the function's log group /aws/lambda/${functionName(functionArn)} says why`;
  }
  return [
    ...(changeId ? [`npx hubfix show ${changeId}`] : []),
    "the finding's note in Security Hub",
    `the SNS message${topic ? ` on ${topic}` : ''}`,
  ].join('; ');
}

/** What the function said about the findings it did not report on one by one. */
function unreportedWhy(answer: FunctionAnswer): string[] {
  return [
    ...(answer.handedOn > 0
      ? [
          `${answer.handedOn} handed to another invocation of the function, to keep this one within its time: the outcome will be in the finding's note and on SNS`,
        ]
      : []),
    ...(answer.duplicates > 0
      ? [
          `${answer.duplicates} already being handled, or handled by an earlier try of this same request: the outcome is in the finding's note`,
        ]
      : []),
    ...(answer.rejected > 0
      ? [`${answer.rejected} not found in Security Hub when the function asked: nothing was done`]
      : []),
    ...(answer.skipped > 0
      ? [
          `${answer.skipped} of another control by the copy the function read from Security Hub: nothing was done`,
        ]
      : []),
  ];
}

type ReportedFinding = FunctionAnswer['findings'][number];

/** What came of asking one control's function about its findings. */
type ControlOutcome =
  /** The function answered: a report per finding it handled, and why the rest were not. */
  | {
      readonly kind: 'answered';
      readonly reported: readonly { readonly located: Located; readonly report: ReportedFinding }[];
      readonly unreported: readonly Located[];
      readonly unreportedWhy: readonly string[];
    }
  /** Lambda did not run the function (denied, throttled, gone): nothing was done. */
  | { readonly kind: 'not-run'; readonly why: string }
  /** The function ran and failed (threw, timed out): it may have done part. */
  | { readonly kind: 'failed'; readonly why: string }
  /** The function answered something hubfix cannot read, or refused the request. */
  | { readonly kind: 'unreadable'; readonly why: string };

interface ControlResult {
  readonly controlId: string;
  readonly functionArn: string;
  readonly asked: readonly Located[];
  readonly outcome: ControlOutcome;
}

/**
 * A finding the CLI did not ask about: unknown to Security Hub, not a
 * control finding, or found but not asked about because another was not.
 */
interface NotAsked {
  readonly id: string;
  readonly status: 'not-found' | 'not-a-control-finding' | 'not-asked';
  readonly why: string;
}

/** Reads what the function answered for the findings it was asked about. */
export function readAnswer(
  asked: readonly Located[],
  answer: InvokeAnswer,
  functionArn: string,
): ControlOutcome {
  const name = functionName(functionArn);
  if (answer.kind === 'function-error') {
    return { kind: 'failed', why: `the function ${name} failed: ${answer.errorMessage}` };
  }
  const parsed = functionAnswerSchema.parse(answer.payload, 'answer');
  if (!parsed.ok) {
    return {
      kind: 'unreadable',
      why: `the function ${name} answered something hubfix cannot read (${parsed.issues
        .map((i) => `${i.path}: ${i.message}`)
        .join('; ')}): is ${functionArn} a hubfix function?`,
    };
  }
  const result = parsed.value;
  if (result.status === 'rejected') {
    return {
      kind: 'unreadable',
      why: `the function ${name} did not accept the request: it is older than this CLI. Deploy hubfix again (npx cdk deploy)`,
    };
  }
  const reported: { located: Located; report: ReportedFinding }[] = [];
  const unreported: Located[] = [];
  for (const located of asked) {
    const report = result.findings.find((f) => f.findingId === located.finding.id);
    if (report) reported.push({ located, report });
    else unreported.push(located);
  }
  return { kind: 'answered', reported, unreported, unreportedWhy: unreportedWhy(result) };
}

function isDone(kind: RequestKind, report: ReportedFinding): boolean {
  return DONE[kind].includes(report.outcome);
}

/** The findings a control's function reports done. */
function doneOf(kind: RequestKind, result: ControlResult): Located[] {
  return result.outcome.kind === 'answered'
    ? result.outcome.reported.filter((r) => isDone(kind, r.report)).map((r) => r.located)
    : [];
}

/** For a person: one block per control, printed as soon as its function answers. */
function printControl(
  context: CommandContext,
  result: ControlResult,
  topic: string | undefined,
): void {
  const { outcome, functionArn } = result;
  const name = functionName(functionArn);
  switch (outcome.kind) {
    case 'not-run':
    case 'unreadable':
      context.warn(`hubfix: ${outcome.why}`);
      return;
    case 'failed':
      context.warn(`hubfix: ${outcome.why}`);
      context.warn(
        `  what it did before it failed is in each finding's note, on SNS and in its log group /aws/lambda/${name}`,
      );
      return;
    case 'answered':
      break;
  }
  for (const { located, report } of outcome.reported) {
    context.print('');
    context.print(`${located.controlId} finding ${located.finding.id}`);
    const resource = located.finding.resources[0]?.id;
    if (resource) context.print(`  resource  ${resource}`);
    context.print(`  decision  ${report.decision}${report.reason ? `: ${report.reason}` : ''}`);
    context.print(
      `  outcome   ${report.outcome} (${OUTCOME_WORDS[report.outcome] ?? 'see the note'})`,
    );
    if (report.note) context.print(`  note      ${report.note}`);
    context.print(`  more      ${readMore(report.outcome, report.changeId, topic, functionArn)}`);
  }
  if (outcome.unreported.length > 0) {
    context.print('');
    context.print(`not reported one by one by ${name}:`);
    for (const located of outcome.unreported) context.print(`  ${located.finding.id}`);
    for (const line of outcome.unreportedWhy) context.print(`  ${line}`);
  }
}

/** `--json`: one entry per finding id given, in the order given. */
export function jsonOf(
  kind: RequestKind,
  where: {
    readonly region: string;
    readonly stack: string;
    readonly by: string;
  },
  notAsked: readonly NotAsked[],
  results: readonly ControlResult[],
  confirmed: ReadonlyMap<string, boolean> | undefined,
): unknown {
  const findings = [
    ...notAsked.map((n) => ({ id: n.id, status: n.status, message: n.why })),
    ...results.flatMap((result) => {
      const { outcome } = result;
      const base = (located: Located) => ({
        id: located.id,
        findingId: located.finding.id,
        controlId: result.controlId,
        function: result.functionArn,
        resource: located.finding.resources[0]?.id,
      });
      if (outcome.kind !== 'answered') {
        const status = outcome.kind === 'failed' ? 'function-failed' : outcome.kind;
        return result.asked.map((located) => ({
          ...base(located),
          status,
          message: outcome.why,
        }));
      }
      return [
        ...outcome.reported.map(({ located, report }) => {
          const done = isDone(kind, report);
          const check = confirmed?.get(located.finding.id);
          return {
            ...base(located),
            status: 'reported',
            decision: report.decision,
            reason: report.reason,
            outcome: report.outcome,
            note: report.note,
            changeId: report.changeId,
            done,
            ...(check === undefined ? {} : { confirmedBySecurityHub: check }),
          };
        }),
        ...outcome.unreported.map((located) => ({
          ...base(located),
          status: 'not-reported',
          message: outcome.unreportedWhy.join('; '),
        })),
      ];
    }),
  ];
  const total = notAsked.length + results.reduce((n, r) => n + r.asked.length, 0);
  const done = results.reduce((n, r) => n + doneOf(kind, r).length, 0);
  return { request: kind, ...where, total, done, findings };
}

/** Security Hub's own verdict on a fixed finding: it checked again and the check passed. */
function confirmed(finding: Finding): boolean {
  return (
    finding.complianceStatus === 'PASSED' ||
    finding.recordState === 'ARCHIVED' ||
    finding.workflowStatus === 'RESOLVED'
  );
}

/**
 * `--wait`: until Security Hub's next check of each fixed finding passes, or
 * the limit. Says each verdict as it comes (`say`); returns, per finding id,
 * whether Security Hub confirmed the fix.
 */
async function waitForSecurityHub(
  context: CommandContext,
  fixed: readonly Located[],
  say: (line: string) => void,
): Promise<Map<string, boolean>> {
  const reader = context.deps.findings(context.region);
  const verdicts = new Map(fixed.map((located) => [located.finding.id, false]));
  const pending = new Map(fixed.map((located) => [located.finding.id, located]));
  say('');
  say(
    `waiting up to ${WAIT_LIMIT_MS / 60_000} minutes for Security Hub to check ${pending.size} finding(s) again...`,
  );
  await waitFor(
    context.deps.clock,
    { timeoutMs: WAIT_LIMIT_MS, intervalMs: WAIT_INTERVAL_MS },
    async () => {
      for (const [id, located] of pending) {
        const now = await reader.fetch(lookupOf(located.finding.ref));
        if (now === undefined || confirmed(now)) {
          pending.delete(id);
          verdicts.set(id, true);
          say(
            now === undefined
              ? `Security Hub no longer holds ${id}`
              : `Security Hub confirms ${id}: ${now.complianceStatus ?? now.recordState ?? now.workflowStatus}`,
          );
        }
      }
      return pending.size === 0 ? true : undefined;
    },
  );
  for (const id of pending.keys()) {
    say(
      `Security Hub has not checked ${id} again yet: hubfix verified its fix itself. Periodic controls are checked every 12 or 24 hours`,
    );
  }
  return verdicts;
}

function requestCommand(kind: RequestKind): Command {
  const verb = kind === 'remediate' ? 'fix' : 'plan';
  return {
    name: kind,
    summary:
      kind === 'remediate'
        ? 'ask hubfix to fix findings now (a person\'s "Remediate")'
        : 'ask hubfix what it would change (a person\'s "Plan"; changes nothing)',
    usage:
      kind === 'remediate'
        ? 'remediate <finding-id>... [--wait] [--json]'
        : 'plan <finding-id>... [--json]',
    help: [
      kind === 'remediate'
        ? "Asks each finding's control function to fix it now, as the Security Hub"
        : "Asks each finding's control function what a fix would change, as the",
      kind === 'remediate'
        ? 'custom action "Remediate" does, and prints what the function did.'
        : 'Security Hub custom action "Plan" does. Nothing is changed.',
      '',
      'A finding id is its ASFF Id (arn:...:finding/<uuid>), or the new Security',
      "Hub's finding_info.uid (arn:...:security-control/<control>/finding/<uuid>)",
      `or metadata.uid (hex). Up to ${MAX_FINDINGS_PER_REQUEST} at once. Each is looked up in Security Hub`,
      'with your credentials to learn its control; nothing is asked of hubfix',
      'unless every one is found and its control deployed. The function is',
      'invoked synchronously (lambda:InvokeFunction) and looks each finding up',
      "again itself: a person's request lifts notify mode, but mode off, the",
      "owner's tags, a notify-only control, dry run and the allow-list (unless",
      'customActions.overrideAllowList) still apply, as for "Remediate".',
      '',
      `exit codes: 0 every finding ${kind === 'remediate' ? 'fixed (or already compliant)' : 'planned'}; 1 not ${kind === 'remediate' ? 'fixed' : 'planned'}, or an error;`,
      kind === 'remediate'
        ? `2 bad usage; 3 fixed, but Security Hub had not checked it again (--wait)`
        : '2 bad usage',
    ],
    options:
      kind === 'remediate'
        ? { wait: { type: 'boolean' }, json: { type: 'boolean' } }
        : { json: { type: 'boolean' } },
    optionHelp: [
      ...(kind === 'remediate'
        ? [
            `--wait              then wait up to ${WAIT_LIMIT_MS / 60_000} minutes for Security Hub's next check`,
            '                    of each fixed finding to pass',
          ]
        : []),
      '--json              print one JSON document on stdout instead: an entry per',
      '                    finding with its status, decision, outcome, note and change',
      '                    id; errors that stop the command are still words on stderr',
    ],
    maxPositionals: MAX_FINDINGS_PER_REQUEST,
    validate(_values, positionals) {
      findingIdsOf(positionals, kind);
    },
    async run(context) {
      const { deps, region, stack } = context;
      const json = flag(context.values, 'json');
      // With --json, stdout carries the one document; a person's lines are not printed.
      const say = json ? () => {} : (line: string) => context.print(line);
      const ids = findingIdsOf(context.positionals, kind);
      const caller = await deps.caller(region);
      const where = { region, stack, by: caller.arn };

      const reader = deps.findings(region);
      const located: Located[] = [];
      const notAsked: NotAsked[] = [];
      for (const id of ids) {
        const found = await locateFinding(reader, id);
        if (found.kind === 'found') {
          located.push({ id, finding: found.finding, controlId: found.controlId });
        } else if (found.kind === 'unknown') {
          const elsewhere = regionOfArn(id);
          notAsked.push({
            id,
            status: 'not-found',
            why: `Security Hub does not know finding ${id} in ${region}${
              found.notes.length > 0 ? ` (${found.notes.join('; ')})` : ''
            }${elsewhere && elsewhere !== region ? `; its id names ${elsewhere}: try --region ${elsewhere}` : ''}`,
          });
        } else {
          notAsked.push({
            id,
            status: 'not-a-control-finding',
            why: `${id} is not a Security Hub control finding hubfix handles: ${found.why.join('; ')}`,
          });
        }
      }
      if (notAsked.length > 0) {
        const nothing = `nothing was asked of hubfix (${notAsked.length} of ${ids.length} unusable)`;
        if (json) {
          const skipped = located.map(
            (l): NotAsked => ({ id: l.id, status: 'not-asked', why: nothing }),
          );
          context.print(jsonLine(jsonOf(kind, where, [...notAsked, ...skipped], [], undefined)));
        } else {
          for (const n of notAsked) context.warn(`hubfix: ${n.why}`);
          context.warn(`hubfix: ${nothing}`);
        }
        return EXIT.notDone;
      }
      // Two ids of one finding (its finding_info.uid and metadata.uid) ask once.
      const unique = [...new Map(located.map((l) => [findingKey(l.finding.ref), l])).values()];
      const controlIds = [...new Set(unique.map((l) => l.controlId))];
      const outputs = await deps.stackOutputs(stack, region);
      const functions = functionsFor(outputs, controlIds, { stack, region });
      const topic = outputs?.[TOPIC_OUTPUT];

      const invoker = deps.functions(region);
      const results: ControlResult[] = [];
      for (const [controlId, functionArn] of functions) {
        const asked = unique.filter((l) => l.controlId === controlId);
        const request: DirectRequest = {
          type: DIRECT_REQUEST_MARKER,
          requestId: deps.newRequestId(),
          request: kind,
          origin: 'cli',
          by: caller.arn,
          findings: asked.map((l) => lookupOf(l.finding.ref)),
        };
        say(
          `asking the ${controlId} function ${functionName(functionArn)} to ${verb} ${asked.length} finding(s), as ${caller.arn}...`,
        );
        let outcome: ControlOutcome;
        try {
          outcome = readAnswer(asked, await invoker.invoke(functionArn, request), functionArn);
        } catch (error) {
          outcome = { kind: 'not-run', why: invokeRefusal(error, functionArn, context) };
        }
        const result = { controlId, functionArn, asked, outcome };
        results.push(result);
        if (!json) printControl(context, result, topic);
      }

      const done = results.flatMap((result) => doneOf(kind, result));
      say('');
      say(
        `${done.length} of ${unique.length} finding(s) ${kind === 'remediate' ? 'fixed' : 'planned'}`,
      );
      const waiting =
        done.length === unique.length && kind === 'remediate' && flag(context.values, 'wait');
      const verdicts = waiting ? await waitForSecurityHub(context, done, say) : undefined;
      if (json) context.print(jsonLine(jsonOf(kind, where, [], results, verdicts)));
      if (done.length < unique.length) return EXIT.notDone;
      if (verdicts && [...verdicts.values()].some((confirmed) => !confirmed)) {
        return EXIT.unconfirmed;
      }
      return EXIT.done;
    },
  };
}

export const remediate = requestCommand('remediate');
export const plan = requestCommand('plan');
