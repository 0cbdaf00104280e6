import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.js';
import { serializeError } from './log-errors.js';

/** Keys whose values never reach a log line, at whatever depth they sit. */
const SENSITIVE_KEYS: ReadonlySet<string> = new Set(['password', 'passportNumber', 'phone', 'authorization', 'cookie', 'clientSecret', 'client_secret']);
/** A PaymentIntent's (or SetupIntent's) client secret, wherever it is quoted: it completes a payment's challenge. */
const CLIENT_SECRET = /\b((?:pi|seti)_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+/g;
const MAX_DEPTH = 10;
const CENSOR = '[REDACTED]';

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A copy with every sensitive key censored and every client secret cut out of text; other objects (errors, dates) as they are. */
export function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(CLIENT_SECRET, `$1_secret_${CENSOR}`);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return CENSOR;
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  if (!isPlainObject(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[key] = SENSITIVE_KEYS.has(key) ? CENSOR : scrub(item, depth + 1);
  return copy;
}

/**
 * Structured JSON logs; secrets and PII are redacted before anything is written: by key at any
 * depth, client secrets out of any text (the message too), and by path as a second line of defence.
 */
export function createLogger(config: Pick<Config, 'logLevel' | 'nodeEnv'>, name: string, destination?: DestinationStream): Logger {
  // Readable lines for a developer at a terminal; JSON everywhere else (and always in production).
  const pretty = !destination && config.nodeEnv === 'development' && process.stdout.isTTY;
  return pino({
    name,
    level: config.logLevel,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss' } } } : {}),
    // Database and Redis errors quote the statement and its values (infra/log-errors.ts).
    serializers: { err: (error: unknown) => scrub(serializeError(error)) },
    formatters: { log: (entry) => scrub(entry) as Record<string, unknown> },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((arg) => (typeof arg === 'string' ? (scrub(arg) as string) : arg)) as Parameters<typeof method>);
      },
    },
    redact: {
      paths: [
        'password',
        '*.password',
        'passportNumber',
        '*.passportNumber',
        '*.*.passportNumber',
        'phone',
        '*.phone',
        'authorization',
        '*.authorization',
        'cookie',
        '*.cookie',
        'req.headers.authorization',
        'req.headers.cookie',
        // A PaymentIntent's client secret completes its 3-D Secure challenge: it goes to the owner only.
        'clientSecret',
        '*.clientSecret',
        '*.*.clientSecret',
        'client_secret',
        '*.client_secret',
        '*.*.client_secret',
      ],
      censor: '[REDACTED]',
    },
  }, destination);
}
export type { Logger };
