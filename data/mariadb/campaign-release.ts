/**
 * What a released campaign hold gives back on MySQL/MariaDB (issue 22): data/campaigns/
 * campaigns.ts `returnCampaignHold` for InnoDB, called inside the release's transaction
 * (data/mariadb/holds.ts `releaseOnMariadb`).
 */
import type { MariadbTx } from './tx';

/**
 * Gives a released campaign hold's units back, inside the release's transaction: the user's
 * count always; the units to the pool while the campaign is open ('pool'). Once a flash sale
 * has ended its pool went back to the level, so the caller releases them from the level as any
 * hold ('stock'). A pre-order held no stock: nothing goes back to a level ('pool').
 * The count, then the pool row: the batch's lock order.
 */
export async function returnCampaignHoldOnMariadb(
  tx: MariadbTx,
  campaignId: string,
  userId: string,
  quantity: number,
): Promise<'pool' | 'stock'> {
  await tx.query('UPDATE campaign_user_counts SET quantity = quantity - ? WHERE campaign_id = ? AND user_id = ?', [
    quantity,
    campaignId,
    userId,
  ]);
  const pooled = await tx.query<{ affectedRows: number }>(
    `UPDATE campaigns SET remaining = remaining + ? WHERE id = ? AND status = 'OPEN'`,
    [quantity, campaignId],
  );
  if (pooled.affectedRows > 0) return 'pool';
  const [c] = await tx.query<{ kind: string }[]>('SELECT kind FROM campaigns WHERE id = ?', [campaignId]);
  return c?.kind === 'PRE_SALE' ? 'pool' : 'stock';
}
