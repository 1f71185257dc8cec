/**
 * Org mode's access to member accounts: the control's role in the finding's
 * account is assumed with STS, its credentials are kept for their lifetime
 * (one AssumeRole per account per hour, not per finding), and clients are
 * built once per account and region.
 *
 * A role that cannot be assumed is remembered for a few minutes, so a batch
 * of findings of an account without the role asks STS once and each finding
 * is told why, instead of hammering STS with requests that will fail the same
 * way.
 */
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import { type AwsClientOptions, awsClientOptions, type TemporaryCredentials } from '../aws';
import { describeError, isTransient, MemberAccessError } from '../errors';
import { roleArn } from '../organization';
import type { MemberAccess, Place } from '../ports';

/** Asked for an hour: the longest session a role allows unless its owner raised it. */
export const SESSION_SECONDS = 3600;
/** Credentials this close to expiry are renewed before they are handed out. */
export const RENEW_BEFORE_MS = 5 * 60_000;
/** How long a role that could not be assumed is not asked for again. */
export const FAILURE_MEMORY_MS = 5 * 60_000;

export interface MemberRolesOptions<Clients> {
  readonly sts: STSClient;
  /** The control's member role, the same name in every account. */
  readonly roleName: string;
  /** What CloudTrail in the member account shows, e.g. `hubfix-EC2.2`. */
  readonly sessionName: string;
  readonly createClients: (options: AwsClientOptions) => Clients;
  readonly now: () => number;
}

type Held =
  | { readonly kind: 'credentials'; readonly credentials: TemporaryCredentials }
  | { readonly kind: 'failed'; readonly error: MemberAccessError; readonly until: number };

export class MemberRoles<Clients> implements MemberAccess<Clients> {
  private readonly held = new Map<string, Held>();
  private readonly pending = new Map<string, Promise<TemporaryCredentials>>();
  private readonly clients = new Map<string, Clients>();

  constructor(private readonly options: MemberRolesOptions<Clients>) {}

  async clientsFor(place: Place): Promise<Clients> {
    // Asked now, so a role that cannot be assumed is known before the control runs.
    await this.credentials(place);
    const key = `${place.partition}:${place.account}:${place.region}`;
    let clients = this.clients.get(key);
    if (clients === undefined) {
      clients = this.options.createClients({
        ...awsClientOptions(place.region),
        credentials: () => this.credentials(place),
      });
      this.clients.set(key, clients);
    }
    return clients;
  }

  private async credentials(place: Place): Promise<TemporaryCredentials> {
    const arn = roleArn(place.partition, place.account, this.options.roleName);
    const now = this.options.now();
    const held = this.held.get(arn);
    if (held?.kind === 'failed' && held.until > now) throw held.error;
    if (
      held?.kind === 'credentials' &&
      held.credentials.expiration.getTime() - now > RENEW_BEFORE_MS
    ) {
      return held.credentials;
    }
    // Findings handled at once for one account share one AssumeRole.
    let pending = this.pending.get(arn);
    if (pending === undefined) {
      pending = this.assume(arn, place.account).finally(() => this.pending.delete(arn));
      this.pending.set(arn, pending);
    }
    return pending;
  }

  private async assume(arn: string, account: string): Promise<TemporaryCredentials> {
    try {
      const { Credentials: c } = await this.options.sts.send(
        new AssumeRoleCommand({
          RoleArn: arn,
          RoleSessionName: this.options.sessionName,
          DurationSeconds: SESSION_SECONDS,
        }),
      );
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
        throw new Error('STS answered AssumeRole without complete credentials');
      }
      const credentials = {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration: c.Expiration,
      };
      this.held.set(arn, { kind: 'credentials', credentials });
      return credentials;
    } catch (cause) {
      const error = new MemberAccessError(
        `hubfix cannot assume ${arn} in account ${account}: ${describeError(cause)}`,
        account,
        arn,
        { cause },
      );
      // A throttled STS may answer next time; a missing or untrusting role will not, for a while.
      if (!isTransient(cause)) {
        this.held.set(arn, {
          kind: 'failed',
          error,
          until: this.options.now() + FAILURE_MEMORY_MS,
        });
      }
      throw error;
    }
  }
}
