/** Log output of the processes (platform/log.ts): LOG_FORMAT, the pretty lines, the quiet bundle report. */
import { loadConfig } from '../../config';
import { createLogger, formatLine, isPretty, temporalLogger } from '../../platform/log';

function capture(tty: boolean, format: 'pretty' | 'json' | 'auto', level = 'info') {
  const lines: string[] = [];
  const out = { isTTY: tty, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
  return { lines, log: createLogger('worker', { logLevel: level, logFormat: format }, out) };
}

it('LOG_FORMAT: auto (default) is pretty on a terminal only; pretty and json force it; anything else is refused', () => {
  expect(loadConfig({}).logFormat).toBe('auto');
  expect(loadConfig({ LOG_FORMAT: 'JSON' }).logFormat).toBe('json');
  expect(() => loadConfig({ LOG_FORMAT: 'fancy' })).toThrow(/LOG_FORMAT/);
  expect(isPretty('auto', { isTTY: true })).toBe(true);
  expect(isPretty('auto', { isTTY: false })).toBe(false);
  expect(isPretty('auto', {})).toBe(false);
  expect(isPretty('pretty', { isTTY: false })).toBe(true);
  expect(isPretty('json', { isTTY: true })).toBe(false);
});

it('pretty: one line with time, level, process, message, then fields; request lines show method, url, status and time; errors their stack', () => {
  const { lines, log } = capture(true, 'auto');
  log.info({ taskQueue: 'orders', state: 'RUNNING', taskToken: 'opaque' }, 'Worker state changed');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    /^\d\d:\d\d:\d\d\.\d{3} INFO {2}worker Worker state changed taskQueue=orders state=RUNNING\n$/,
  );
  const request = formatLine(
    JSON.stringify({
      level: 30,
      time: 0,
      name: 'api',
      reqId: 'req-1',
      res: { statusCode: 201 },
      responseTime: 3.21,
      msg: 'request completed',
    }),
  );
  expect(request).toBe('00:00:00.000 INFO  api    request completed 201 3.2ms reqId=req-1\n');
  expect(
    formatLine(
      JSON.stringify({
        level: 30,
        time: 0,
        name: 'api',
        req: { method: 'POST', url: '/orders' },
        msg: 'incoming request',
      }),
    ),
  ).toContain('incoming request POST /orders');
  const failed = formatLine(
    JSON.stringify({
      level: 50,
      time: 0,
      name: 'api',
      err: { message: 'boom', stack: 'Error: boom\n    at x' },
      msg: 'drain failed',
    }),
  );
  expect(failed).toBe('00:00:00.000 ERROR api    drain failed\n    Error: boom\n        at x\n');
  expect(formatLine('not json')).toBe('not json\n');
});

it('json: pino lines as they were, named after the process', () => {
  const { lines, log } = capture(true, 'json');
  log.warn({ n: 1 }, 'hello');
  expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, name: 'worker', n: 1, msg: 'hello' });
});

it("the Temporal bundler's report (webpack's table, 'Workflow bundle created') is debug; other SDK logs keep their level", () => {
  const quiet = capture(false, 'json');
  const sdk = temporalLogger(quiet.log);
  sdk.info('asset workflow-bundle-7d1c.js 1.2 MiB [emitted]\nwebpack 5.101.0 compiled successfully in 2301 ms');
  sdk.info('Workflow bundle created', { size: '1.2MB' });
  expect(quiet.lines).toHaveLength(0);
  sdk.info('Worker state changed', { state: 'RUNNING' });
  sdk.warn('slow');
  expect(quiet.lines.map((l) => JSON.parse(l) as { level: number; msg: string }).map((e) => [e.level, e.msg])).toEqual([
    [30, 'Worker state changed'],
    [40, 'slow'],
  ]);
  const verbose = capture(false, 'json', 'debug');
  temporalLogger(verbose.log).info('Workflow bundle created', { size: '1.2MB' });
  expect(JSON.parse(verbose.lines[0]!)).toMatchObject({ level: 20, size: '1.2MB' });
});
