import { createControlHandler } from '../../core/handler';
import { ec2_6 } from './remediate';

export const handler = createControlHandler(ec2_6);
