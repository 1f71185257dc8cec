import { createControlHandler } from '../../core/handler';
import { ec2_24 } from './remediate';

export const handler = createControlHandler(ec2_24);
