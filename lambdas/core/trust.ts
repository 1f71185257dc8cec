/**
 * The trust stage. First, pure (row 1 of the policy): is this a genuine,
 * current, failed Security Hub control finding about a resource in this
 * function's own account and region (in org mode: in an allowed member
 * account and region, the finding's own)? A forged or stale event is turned away
 * before any AWS call is made. Then, because anyone allowed to invoke the
 * function can hand it any event: Security Hub is asked for the finding
 * again, and only its copy (status, resource, control parameters) may lead
 * to a change.
 */
import { describeError } from './errors';
import { controlIdFromGeneratorId, type Finding, securityHubRegion } from './finding';
import { lookupOf } from './intake/types';
import { type OrganizationScope, scopeRefusal } from './organization';
import { type Request, screen } from './policy';
import type { FindingStore } from './ports';
import type { ResourceRef, ResourceSpec } from './resource';
import type { Mode } from './settings';

export interface Identity {
  readonly account: string;
  readonly region: string;
}

export type TrustResult =
  | { readonly ok: true; readonly resource: ResourceRef }
  | { readonly ok: false; readonly reason: string; readonly resource: ResourceRef | undefined };

export function assessTrust(input: {
  /** Where the event says it comes from (a direct request: the function's own account and region). */
  readonly event: { readonly account: string; readonly region: string };
  readonly finding: Finding;
  readonly request: Request;
  readonly controlId: string;
  readonly resourceSpec: ResourceSpec;
  readonly self: Identity;
  /**
   * Org mode: findings of these member accounts and regions are accepted too.
   * @default undefined — single-account mode: only this deployment's own account and region
   */
  readonly organization?: OrganizationScope | undefined;
}): TrustResult {
  const { event, finding, request, controlId, resourceSpec, self, organization } = input;
  const refuse = (reason: string, resource?: ResourceRef): TrustResult => ({
    ok: false,
    reason,
    resource,
  });

  if (event.account !== self.account || event.region !== self.region) {
    return refuse(
      `the event came from ${event.account}/${event.region}, not this deployment's ${self.account}/${self.region}`,
    );
  }
  const producedIn = securityHubRegion(finding.productArn);
  if (producedIn === undefined) {
    return refuse(`the finding is not from the AWS Security Hub product (${finding.productArn})`);
  }
  if (organization === undefined) {
    if (producedIn !== self.region) {
      return refuse(`the finding was produced in ${producedIn}, not ${self.region}`);
    }
    if (finding.awsAccountId !== self.account) {
      return refuse(`the finding belongs to account ${finding.awsAccountId}, not ${self.account}`);
    }
  } else {
    // Aggregated findings keep their own account and the region that produced them.
    const outside = scopeRefusal(organization, finding.awsAccountId, producedIn);
    if (outside !== undefined) return refuse(outside);
  }
  /** Where the resource must be: this deployment's place, or the member finding's own. */
  const home: Identity =
    organization === undefined ? self : { account: finding.awsAccountId, region: producedIn };
  if (finding.controlId !== controlId) {
    return refuse(`the finding is for control ${finding.controlId ?? '(none)'}, not ${controlId}`);
  }
  const generatorControl = controlIdFromGeneratorId(finding.generatorId);
  if (generatorControl !== undefined && generatorControl !== controlId) {
    return refuse(`the finding's GeneratorId names ${generatorControl}, not ${controlId}`);
  }
  if (finding.complianceStatus !== 'FAILED') {
    return refuse(
      `the finding's compliance status is ${finding.complianceStatus ?? 'missing'}, not FAILED`,
    );
  }
  if (finding.recordState !== 'ACTIVE') {
    return refuse(`the finding is ${finding.recordState ?? 'in no record state'}, not ACTIVE`);
  }
  // hubfix's own finding updates come back as "Imported" events; only NEW
  // ones are work. A person's request, and the reconciler's sweep (which
  // lifts lapsed suppressions), are honoured whatever the status.
  if (request === 'imported' && finding.workflowStatus !== 'NEW') {
    return refuse(`the finding's workflow is ${finding.workflowStatus ?? 'missing'}, not NEW`);
  }

  const named = finding.resources.find((r) => resourceSpec.types.includes(r.type));
  if (!named) {
    const types = [...new Set(finding.resources.map((r) => r.type))];
    return refuse(
      `the finding names no ${resourceSpec.types.join(' or ')} resource${
        types.length > 0 ? ` (it names ${types.join(', ')})` : ''
      }`,
    );
  }
  let resource: ResourceRef;
  try {
    resource = resourceSpec.parse(
      named.id,
      named.type,
      named.region ?? finding.region ?? event.region,
    );
  } catch (error) {
    return refuse(describeError(error));
  }
  if (resource.account !== home.account) {
    return refuse(`the resource is in account ${resource.account}, not ${home.account}`, resource);
  }
  if (
    resource.region !== home.region ||
    (named.region !== undefined && named.region !== home.region)
  ) {
    return refuse(`the resource is in region ${resource.region}, not ${home.region}`, resource);
  }
  return { ok: true, resource };
}

export type Confirmation =
  | { readonly kind: 'confirmed'; readonly finding: Finding; readonly resource: ResourceRef }
  /** Security Hub does not know the finding, or its copy is not one hubfix acts on. */
  | { readonly kind: 'refused'; readonly reason: string }
  /** Security Hub could not be asked: the event's copy may be planned and told, never acted on. */
  | { readonly kind: 'unconfirmed'; readonly reason: string };

function sameResource(a: ResourceRef, b: ResourceRef): boolean {
  return a.account === b.account && a.region === b.region && a.id === b.id;
}

/**
 * Asks Security Hub for the finding again and checks its copy as the event's
 * was checked: it must exist, be FAILED and ACTIVE, be about this control,
 * and name the same resource.
 */
export async function confirmFinding(input: {
  readonly store: FindingStore;
  readonly finding: Finding;
  /** The resource the event's copy named, when there was an event copy. */
  readonly resource: ResourceRef | undefined;
  readonly assess: (finding: Finding) => TrustResult;
}): Promise<Confirmation> {
  let fetched: Finding | undefined;
  try {
    fetched = await input.store.fetch(lookupOf(input.finding.ref));
  } catch (error) {
    return { kind: 'unconfirmed', reason: describeError(error) };
  }
  if (fetched === undefined) {
    return { kind: 'refused', reason: 'Security Hub does not know this finding' };
  }
  const trust = input.assess(fetched);
  if (!trust.ok) return { kind: 'refused', reason: `Security Hub's copy: ${trust.reason}` };
  if (input.resource !== undefined && !sameResource(trust.resource, input.resource)) {
    return {
      kind: 'refused',
      reason: `the event names ${input.resource.id}, but Security Hub's copy of the finding names ${trust.resource.id}`,
    };
  }
  return { kind: 'confirmed', finding: fetched, resource: trust.resource };
}

export type Admission =
  | {
      readonly kind: 'refused';
      readonly reason: string;
      /** The resource the event named, when it could be read: for the report. */
      readonly resource: ResourceRef | undefined;
      /** Worth a warning: the event or Security Hub's copy failed a check (not just mode off). */
      readonly suspicious: boolean;
    }
  | {
      readonly kind: 'admitted';
      /** Security Hub's copy when it answered, else the event's. */
      readonly finding: Finding;
      readonly resource: ResourceRef;
      readonly confirmation:
        | { readonly confirmed: true }
        | { readonly confirmed: false; readonly reason: string };
    };

/**
 * The whole trust stage for one finding: the event's checks, the control's
 * mode, then Security Hub's own copy (unless the finding came from Security
 * Hub just now, fetched by identifiers).
 */
export async function admit(input: {
  readonly event: { readonly account: string; readonly region: string };
  readonly finding: Finding;
  readonly fromSecurityHub: boolean;
  readonly request: Request;
  readonly controlId: string;
  readonly resourceSpec: ResourceSpec;
  readonly self: Identity;
  /** @default undefined — single-account mode */
  readonly organization?: OrganizationScope | undefined;
  readonly mode: Mode;
  readonly store: FindingStore;
}): Promise<Admission> {
  const assess = (finding: Finding) => assessTrust({ ...input, finding });
  const trust = assess(input.finding);
  const screened = screen({ trust, mode: input.mode });
  if (screened || !trust.ok) {
    return {
      kind: 'refused',
      reason: screened?.reason ?? 'refused',
      resource: trust.resource,
      suspicious: !trust.ok,
    };
  }
  if (input.fromSecurityHub) {
    return {
      kind: 'admitted',
      finding: input.finding,
      resource: trust.resource,
      confirmation: { confirmed: true },
    };
  }
  const confirmation = await confirmFinding({
    store: input.store,
    finding: input.finding,
    resource: trust.resource,
    assess,
  });
  switch (confirmation.kind) {
    case 'refused':
      return {
        kind: 'refused',
        reason: confirmation.reason,
        resource: trust.resource,
        suspicious: true,
      };
    case 'unconfirmed':
      return {
        kind: 'admitted',
        finding: input.finding,
        resource: trust.resource,
        confirmation: { confirmed: false, reason: confirmation.reason },
      };
    case 'confirmed':
      return {
        kind: 'admitted',
        finding: confirmation.finding,
        resource: confirmation.resource,
        confirmation: { confirmed: true },
      };
  }
}
