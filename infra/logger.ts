import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.js';
import { serializeError } from './log-errors.js';

/** Structured JSON logs; secrets and PII are redacted by path before anything is written. */
export function createLogger(config: Pick<Config, 'logLevel' | 'nodeEnv'>, name: string, destination?: DestinationStream): Logger {
  // Readable lines for a developer at a terminal; JSON everywhere else (and always in production).
  const pretty = !destination && config.nodeEnv === 'development' && process.stdout.isTTY;
  return pino({
    name,
    level: config.logLevel,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss' } } } : {}),
    // Database and Redis errors quote the statement and its values (infra/log-errors.ts).
    serializers: { err: serializeError },
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
