/**
 * What the registry and the function both need to know about EC2.18, kept
 * apart from the remediation code so synth can read it without the SDK.
 */
import { array, type Infer, object, optional } from '../../core/schema';
import { portSpecSchema } from '../../services/ec2/ports';

export const ec2_18Params = object({
  authorizedTcpPorts: optional(
    array(portSpecSchema, {
      maxItems: 100,
      description:
        'TCP ports that may be open to the internet, as numbers or "from-to" ranges. Used when the finding does not carry the control\'s own authorizedTcpPorts parameter (Security Hub\'s value wins: it is what the finding was judged by).',
    }),
    [80, 443],
  ),
  authorizedUdpPorts: optional(
    array(portSpecSchema, {
      maxItems: 100,
      description: 'UDP ports that may be open to the internet; same rules as TCP.',
    }),
    [],
  ),
});

export type Ec2_18Params = Infer<typeof ec2_18Params>;

export const ec2_18Meta = {
  id: 'EC2.18',
  title: 'Security groups should only allow unrestricted incoming traffic for authorized ports',
  notifyOnly: false,
  params: ec2_18Params,
} as const;
