/**
 * The one `Finding` every stage after intake works with. Security Hub CSPM's
 * ASFF and the new Security Hub's OCSF enter through their intake adapters
 * (lambdas/core/intake/) and leave as this type, in ASFF's vocabulary
 * (FAILED, ACTIVE, NEW; AwsEc2SecurityGroup; ARNs): nothing downstream knows
 * which format a finding came in. Only the Security Hub adapter looks inside
 * `ref`, to fetch the finding again and to write back to it.
 */

export const SEVERITY_LABELS = ['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type SeverityLabel = (typeof SEVERITY_LABELS)[number];

export const WORKFLOW_STATUSES = ['NEW', 'NOTIFIED', 'SUPPRESSED', 'RESOLVED'] as const;
export type WorkflowStatus = (typeof WORKFLOW_STATUSES)[number];

/** How Security Hub knows a finding: enough to fetch it again and to update it. */
export type FindingRef =
  | { readonly format: 'asff'; readonly id: string; readonly productArn: string }
  | {
      readonly format: 'ocsf';
      /** finding_info.uid: the finding's ARN. */
      readonly uid: string;
      /** metadata.uid: the identifier BatchUpdateFindingsV2 takes as MetadataUids. */
      readonly metadataUid: string;
      readonly productUid: string;
      readonly accountUid: string;
    };

export interface FindingResource {
  /** ASFF resource type, e.g. AwsEc2SecurityGroup. */
  readonly type: string;
  /** The identifier ASFF would give (an ARN, or AWS::::Account:<id>). */
  readonly id: string;
  readonly partition: string | undefined;
  readonly region: string | undefined;
}

export interface Finding {
  readonly ref: FindingRef;
  /** ASFF Id or OCSF finding_info.uid: what logs, notes and the ledger call it. */
  readonly id: string;
  /** The product identifier as the finding gave it (ASFF ProductArn, OCSF metadata.product.uid). */
  readonly productArn: string;
  readonly generatorId: string;
  readonly awsAccountId: string;
  readonly region: string | undefined;
  readonly title: string;
  /**
   * When the product last changed the finding (ASFF UpdatedAt, OCSF
   * finding_info.modified_time). Finding updates do not move it, so hubfix's
   * own write-back, echoed as an event, is recognised as a repeat.
   */
  readonly updatedAt: string;
  readonly severity: SeverityLabel;
  /** From Compliance.SecurityControlId, else the legacy ProductFields.ControlId, else GeneratorId. */
  readonly controlId: string | undefined;
  readonly complianceStatus: string | undefined;
  readonly recordState: string | undefined;
  readonly workflowStatus: string | undefined;
  readonly resources: readonly FindingResource[];
  /** Compliance.SecurityControlParameters, e.g. authorizedTcpPorts → ["80", "443"]. */
  readonly controlParameters: Readonly<Record<string, readonly string[]>>;
}

/** `security-control/EC2.2` or `aws-foundational-security-best-practices/v/1.0.0/EC2.2`. */
export function controlIdFromGeneratorId(generatorId: string): string | undefined {
  const last = generatorId.split('/').at(-1);
  return last && /^[A-Za-z][A-Za-z0-9]*\.\d+$/.test(last) ? last : undefined;
}

/**
 * The finding's key for hubfix's own records (idempotency, history, lease
 * holders): the ASFF Id, or the OCSF metadata.uid (which is what the new
 * Security Hub's events and updates name it by).
 */
export function findingKey(ref: FindingRef): string {
  return ref.format === 'asff' ? ref.id : ref.metadataUid;
}

/**
 * Security Hub CSPM's product (ASFF) or the new Security Hub's (OCSF). Not
 * `securityhub-coverage` or any other product: hubfix acts on control findings only.
 */
const SECURITY_HUB_PRODUCT =
  /^arn:aws[a-z-]*:securityhub:([a-z0-9-]+)::(?:product|productv2)\/aws\/securityhub$/;

/**
 * The region whose Security Hub produced a finding of this product ARN
 * (aggregated findings keep it); undefined for any other product.
 */
export function securityHubRegion(productArn: string): string | undefined {
  return SECURITY_HUB_PRODUCT.exec(productArn)?.[1];
}
