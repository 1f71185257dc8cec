import { createReconcilerHandler } from './reconciler';

export const handler = createReconcilerHandler();
