/**
 * The region, chosen as the AWS CLI chooses it: --region, then AWS_REGION,
 * then AWS_DEFAULT_REGION, then the region of the profile (AWS_PROFILE, else
 * "default") in ~/.aws/config (or AWS_CONFIG_FILE).
 */
import { loadConfig } from '@smithy/core/config';

export const REGION_PRECEDENCE =
  '--region, then AWS_REGION, then AWS_DEFAULT_REGION, then the region of your profile (AWS_PROFILE, else default) in ~/.aws/config';

export async function resolveRegion(
  option: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  profileRegion: () => Promise<string | undefined>,
): Promise<string | undefined> {
  return option || env.AWS_REGION || env.AWS_DEFAULT_REGION || (await profileRegion());
}

/** The profile's region from the shared config files, as the SDK reads them. */
export async function sharedConfigRegion(
  env: Readonly<Record<string, string | undefined>>,
): Promise<string | undefined> {
  try {
    const region = await loadConfig<string | undefined>(
      {
        environmentVariableSelector: () => undefined,
        configFileSelector: (profile) => profile.region,
        default: () => undefined,
      },
      { profile: env.AWS_PROFILE },
    )();
    return region || undefined;
  } catch {
    // A missing or unreadable config file is the same as no region there.
    return undefined;
  }
}
