/** Workflow entry point for the worker's bundle: every workflow type the service runs. */
export { orderWorkflow } from './order';
export { latePaymentWorkflow } from './late-payment';
export { sweeperWorkflow } from './sweeper';
export { cacheCheckWorkflow } from './cache-check';
