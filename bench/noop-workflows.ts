/** Baseline: the saga ceiling — a workflow that does nothing. */
export async function noopWorkflow(): Promise<void> {}
