import { worldOpenIngressScenario } from '../world-open-ingress';

export const scenario = worldOpenIngressScenario(
  'EC2.18',
  'EC2.18 Security groups should only allow unrestricted incoming traffic for authorized ports',
);
