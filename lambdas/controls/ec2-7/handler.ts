import { createControlHandler } from '../../core/handler';
import { ec2_7 } from './remediate';

export const handler = createControlHandler(ec2_7);
