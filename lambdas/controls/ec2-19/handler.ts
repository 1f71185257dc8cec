import { createControlHandler } from '../../core/handler';
import { ec2_19 } from './remediate';

export const handler = createControlHandler(ec2_19);
