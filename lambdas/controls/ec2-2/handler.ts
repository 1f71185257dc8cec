import { createControlHandler } from '../../core/handler';
import { ec2_2 } from './remediate';

export const handler = createControlHandler(ec2_2);
