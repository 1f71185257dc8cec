import { createControlHandler } from '../../core/handler';
import { ec2_8 } from './remediate';

export const handler = createControlHandler(ec2_8);
