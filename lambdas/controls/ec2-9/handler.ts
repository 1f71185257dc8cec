import { createControlHandler } from '../../core/handler';
import { ec2_9 } from './remediate';

export const handler = createControlHandler(ec2_9);
