import { createControlHandler } from '../../core/handler';
import { ecs_2 } from './remediate';

export const handler = createControlHandler(ecs_2);
