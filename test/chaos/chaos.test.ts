/**
 * The chaos suite, reduced: the same scenario code as `npm run chaos` with fewer orders and
 * hostile requests, on the real stack (own Temporal dev server, own redis-server, own nats-server, the real
 * worker and API processes). Every scenario must end with its invariants intact.
 */
import { REDUCED, runSuite } from '../../chaos/suite';
import { passed, type Row } from '../../chaos/table';

jest.setTimeout(900_000);

it('every scenario ends with nothing oversold, lost or stuck, and the invariants intact', async () => {
  const lines: string[] = [];
  const rows: Row[] = await runSuite(REDUCED, (line) => lines.push(line));
  console.log(lines.join('\n'));
  expect(rows.filter((r) => !passed(r))).toEqual([]);
});
