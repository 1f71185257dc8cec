import { createControlHandler } from '../../core/handler';
import { ecs_16 } from './remediate';

export const handler = createControlHandler(ecs_16);
