import { worldOpenIngressScenario } from '../world-open-ingress';

export const scenario = worldOpenIngressScenario(
  'EC2.19',
  'EC2.19 Security groups should not allow unrestricted access to ports with high risk',
);
