/** Workflow entry point for the worker's bundle: every workflow type the service runs. */
export { orderWorkflow } from './order';
export { latePaymentWorkflow } from './late-payment';
export { sweeperWorkflow } from './sweeper';
export { campaignWorkflow } from './campaign';
export { preSaleFulfilmentWorkflow } from './pre-sale';
export { expiryWorkflow } from './expiry';
export { reconciliationWorkflow } from './reconcile';
export { paymentCheckWorkflow } from './payment-check';
export { transferWorkflow } from './transfer';
export { cacheCheckWorkflow } from './cache-check';
