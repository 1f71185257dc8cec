import { createControlHandler } from '../../core/handler';
import { ec2_1 } from './remediate';

export const handler = createControlHandler(ec2_1);
