/**
 * The EventBridge patterns that route findings to a control's function.
 *
 * EventBridge checks every condition under `detail.findings` within the same
 * finding (array consistency), so a batch holding one finding of each kind
 * cannot trip a rule by combining fields of different findings.
 *
 * Findings come in two shapes, and both must route:
 * - consolidated: Compliance.SecurityControlId = EC2.2
 * - legacy per-standard: ProductFields.ControlId = EC2.2, often without
 *   SecurityControlId.
 */
import type { EventPattern } from 'aws-cdk-lib/aws-events';
import {
  CUSTOM_ACTION_DETAIL_TYPE,
  IMPORTED_DETAIL_TYPE,
  SECURITY_HUB_SOURCE,
} from '../lambdas/core/intake/asff';

export interface FindingSource {
  /**
   * `arn:<partition>:securityhub:<region>::product/aws/securityhub`; in org
   * mode one per region hubfix acts in (aggregated findings keep the region
   * that produced them).
   */
  readonly productArn: string | readonly string[];
  /**
   * The findings' account: this deployment's own, the member accounts named,
   * or (org mode with `accounts: "*"`) any account but the excluded ones.
   */
  readonly account: string | readonly string[] | { readonly anythingBut: readonly string[] };
}

function productArnsOf(source: FindingSource): string[] {
  return typeof source.productArn === 'string' ? [source.productArn] : [...source.productArn];
}

/** `AwsAccountId`, or nothing when any account will do (the trust stage still checks). */
function accountOf(source: FindingSource): Record<string, unknown> {
  const { account } = source;
  if (typeof account === 'string') return { AwsAccountId: [account] };
  if ('anythingBut' in account) {
    return account.anythingBut.length > 0
      ? { AwsAccountId: [{ 'anything-but': [...account.anythingBut] }] }
      : {};
  }
  return { AwsAccountId: [...account] };
}

/** Either shape of finding, for one control, optionally with more conditions on Compliance. */
function eitherFormat(controlId: string, compliance: Record<string, readonly string[]> = {}) {
  return [
    { Compliance: { ...compliance, SecurityControlId: [controlId] } },
    {
      ...(Object.keys(compliance).length > 0 ? { Compliance: compliance } : {}),
      ProductFields: { ControlId: [controlId] },
    },
  ];
}

/**
 * New, failed, active findings of one control from the AWS Security Hub
 * product in this account. Workflow NEW keeps hubfix's own finding updates
 * (which come back as "Imported" events with another status) from looping.
 */
export function importedFindingsPattern(controlId: string, source: FindingSource): EventPattern {
  return {
    source: [SECURITY_HUB_SOURCE],
    detailType: [IMPORTED_DETAIL_TYPE],
    detail: {
      findings: {
        ProductArn: productArnsOf(source),
        ...accountOf(source),
        RecordState: ['ACTIVE'],
        Workflow: { Status: ['NEW'] },
        $or: eitherFormat(controlId, { Status: ['FAILED'] }),
      },
    },
  };
}

/**
 * A person chose "Remediate" or "Plan" on findings of this control, whatever
 * their workflow status: they may ask to fix what hubfix only notified about.
 */
export function customActionPattern(
  controlId: string,
  source: FindingSource,
  actionArns: readonly string[],
): EventPattern {
  return {
    source: [SECURITY_HUB_SOURCE],
    detailType: [CUSTOM_ACTION_DETAIL_TYPE],
    resources: [...actionArns],
    detail: {
      findings: {
        ProductArn: productArnsOf(source),
        ...accountOf(source),
        $or: eitherFormat(controlId),
      },
    },
  };
}
