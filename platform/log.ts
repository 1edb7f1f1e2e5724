/**
 * Logs of the service's processes (start, API, worker): pino, one JSON line per entry for a
 * log collector, or one readable line for a person at a terminal (LOG_FORMAT=pretty|json|auto;
 * auto: pretty when stdout is a TTY). The pretty form is a small formatter of pino's own
 * lines, so there is no transport thread and nothing to install.
 */
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import type { Config } from '../config';

type LogSettings = Pick<Config, 'logLevel' | 'logFormat'>;

/** Whether `format` means pretty lines on `out` (auto: a terminal). */
export function isPretty(format: Config['logFormat'], out: { isTTY?: boolean } = process.stdout): boolean {
  return format === 'pretty' || (format === 'auto' && out.isTTY === true);
}

/** pino options (Fastify's `logger` accepts them as they are), named after the process. */
export function loggerOptions(
  name: string,
  settings: LogSettings,
  out: NodeJS.WriteStream = process.stdout,
): LoggerOptions & { stream?: DestinationStream } {
  const options: LoggerOptions = { name, level: settings.logLevel };
  return isPretty(settings.logFormat, out) ? { ...options, stream: prettyStream(out) } : options;
}

export function createLogger(name: string, settings: LogSettings, out: NodeJS.WriteStream = process.stdout): Logger {
  const { stream, ...options } = loggerOptions(name, settings, out);
  const destination = stream ?? (out === process.stdout ? undefined : out);
  return destination ? pino(options, destination) : pino(options);
}

const LEVELS: Record<number, [string, number]> = {
  10: ['TRACE', 90],
  20: ['DEBUG', 34],
  30: ['INFO ', 32],
  40: ['WARN ', 33],
  50: ['ERROR', 31],
  60: ['FATAL', 35],
};
/** pino's own fields, the ones the line shows in a form of its own, and Temporal's opaque task token. */
const SHOWN = new Set([
  'level',
  'time',
  'pid',
  'hostname',
  'name',
  'msg',
  'v',
  'req',
  'res',
  'responseTime',
  'err',
  'taskToken',
]);

/**
 * A pino destination that turns each JSON line into `12:00:01.234 INFO  api    message key=value`,
 * coloured on a terminal that has colours (NO_COLOR / FORCE_COLOR apply, as Node reads them).
 */
export function prettyStream(
  out: { write(s: string): unknown; isTTY?: boolean; hasColors?: () => boolean } = process.stdout,
  colors = out.isTTY === true && out.hasColors?.() === true,
): DestinationStream {
  return { write: (line: string) => void out.write(formatLine(line, colors)) };
}

export function formatLine(line: string, colors = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const paint = (code: number, text: string) => (colors ? `\x1b[${code}m${text}\x1b[0m` : text);
  const [label, color] = LEVELS[entry.level as number] ?? [String(entry.level).toUpperCase().padEnd(5), 0];
  const time = new Date(typeof entry.time === 'number' ? entry.time : Date.now()).toISOString().slice(11, 23);
  const parts = [paint(2, time), paint(color, label), paint(36, String(entry.name ?? '').padEnd(6))];
  if (entry.msg !== undefined) parts.push(String(entry.msg));
  const req = entry.req as { method?: string; url?: string } | undefined;
  if (req?.method) parts.push(`${req.method} ${req.url}`);
  const res = entry.res as { statusCode?: number } | undefined;
  if (res?.statusCode) parts.push(String(res.statusCode));
  if (typeof entry.responseTime === 'number') parts.push(`${entry.responseTime.toFixed(1)}ms`);
  for (const [key, value] of Object.entries(entry)) {
    if (SHOWN.has(key) || value === undefined) continue;
    parts.push(
      paint(2, `${key}=`) + (typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)),
    );
  }
  const err = entry.err as { message?: string; stack?: string } | undefined;
  const tail = err ? `\n    ${(err.stack ?? err.message ?? JSON.stringify(err)).split('\n').join('\n    ')}` : '';
  return `${parts.join(' ')}${tail}\n`;
}

/**
 * The Temporal Runtime's logger (SDK, Core, workflow and activity logs) over pino. The
 * bundler's report (webpack's asset table and "Workflow bundle created") is debug: at the
 * default level a worker start says only that it polls.
 */
export function temporalLogger(log: Logger): TemporalLogger {
  const write = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const quiet = level === 'INFO' && isBundleReport(message);
    const method = quiet ? 'debug' : (level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error');
    if (meta === undefined) log[method](message);
    else log[method](meta, message);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}

export function isBundleReport(message: string): boolean {
  return (
    message === 'Workflow bundle created' ||
    /webpack [\d.]+ compiled/.test(message) ||
    message.startsWith('asset workflow-bundle')
  );
}
