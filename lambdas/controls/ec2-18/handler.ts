import { createControlHandler } from '../../core/handler';
import { ec2_18 } from './remediate';

export const handler = createControlHandler(ec2_18);
