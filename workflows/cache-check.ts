/**
 * The cache consistency check, run by the Temporal Schedule `stockhold-cache-consistency-check`
 * (every CACHE_CHECK_INTERVAL): compare, repair, rebuild on drift, record. The work is one
 * activity; the workflow gives it the schedule, retries and a place in the Temporal UI.
 */
import type { CacheCheckOptions, CacheCheckResult } from '../domain/reports';
import { checkCache } from './activities-proxy';

export async function cacheCheckWorkflow(options: CacheCheckOptions): Promise<CacheCheckResult> {
  return checkCache(options);
}
