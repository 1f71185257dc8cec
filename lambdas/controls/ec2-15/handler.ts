import { createControlHandler } from '../../core/handler';
import { ec2_15 } from './remediate';

export const handler = createControlHandler(ec2_15);
