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
import { COMPLIANCE_FINDING_CLASS, IMPORTED_V2_DETAIL_TYPE } from '../lambdas/core/intake/ocsf';

export interface FindingSource {
  /**
   * `arn:<partition>:securityhub:<region>::product/aws/securityhub`; in org
   * mode one per region hubfix acts in (aggregated findings keep the region
   * that produced them).
   */
  readonly productArn: string | readonly string[];
  /**
   * `arn:<partition>:securityhub:<region>::productv2/aws/securityhub`: the
   * new Security Hub's product uid, one per region as for `productArn`.
   */
  readonly productV2Uid: string | readonly string[];
  /**
   * The findings' account: this deployment's own, the member accounts named,
   * or (org mode with `accounts: "*"`) any account but the excluded ones.
   */
  readonly account: string | readonly string[] | { readonly anythingBut: readonly string[] };
}

function listOf(value: string | readonly string[]): string[] {
  return typeof value === 'string' ? [value] : [...value];
}

/** The values an account field must match, or undefined when any account will do (the trust stage still checks). */
function accountValuesOf(source: FindingSource): unknown[] | undefined {
  const { account } = source;
  if (typeof account === 'string') return [account];
  if ('anythingBut' in account) {
    return account.anythingBut.length > 0
      ? [{ 'anything-but': [...account.anythingBut] }]
      : undefined;
  }
  return [...account];
}

/** `AwsAccountId`, or nothing when any account will do. */
function accountOf(source: FindingSource): Record<string, unknown> {
  const values = accountValuesOf(source);
  return values ? { AwsAccountId: values } : {};
}

/** OCSF `compliance.status_id` of a failed check. */
const OCSF_COMPLIANCE_FAIL = 3;
/** OCSF `status_id` New. */
const OCSF_STATUS_NEW = 1;
/** OCSF `activity_id` Close: the finding was closed, not (re)opened or updated. */
const OCSF_ACTIVITY_CLOSE = 3;

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
        ProductArn: listOf(source.productArn),
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
        ProductArn: listOf(source.productArn),
        ...accountOf(source),
        $or: eitherFormat(controlId),
      },
    },
  };
}

/**
 * The new Security Hub's "Findings Imported V2": a failed compliance finding
 * of one control, from the Security Hub product (not its coverage findings or
 * another product), in this account, status New and not closed. Status New,
 * as Workflow NEW above, keeps hubfix's own updates (which come back as
 * events with another status) from looping.
 */
export function importedV2FindingsPattern(controlId: string, source: FindingSource): EventPattern {
  return {
    source: [SECURITY_HUB_SOURCE],
    detailType: [IMPORTED_V2_DETAIL_TYPE],
    detail: {
      findings: {
        class_uid: [COMPLIANCE_FINDING_CLASS],
        metadata: { product: { uid: listOf(source.productV2Uid) } },
        ...(accountValuesOf(source)
          ? { cloud: { account: { uid: accountValuesOf(source) } } }
          : {}),
        compliance: { control: [controlId], status_id: [OCSF_COMPLIANCE_FAIL] },
        status_id: [OCSF_STATUS_NEW],
        activity_id: [{ 'anything-but': [OCSF_ACTIVITY_CLOSE] }],
      },
    },
  };
}
