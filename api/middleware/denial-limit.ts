import type { AuditEvent } from '../../infra/audit/audit-log.js';
import type { Logger } from '../../infra/logger.js';
import type { SlidingWindowLimiter } from '../../infra/rate-limit/sliding-window.js';
import type { Redis } from '../../infra/redis.js';
import type { ApiError } from '../problem.js';
import { ipRateLimitSubject } from '../../infra/rate-limit/ip-subject.js';
import { rateLimited } from './rate-limit.js';

/** Denials audited one row each, per window: a user probing by hand stays well inside. */
export const DENIALS_PER_USER = 20;
/** Per client address (an IPv6 /64), whoever is signed in: a few accounts cannot multiply the flood. */
export const DENIALS_PER_IP = 60;

export interface DenialLimitOptions {
  limiter: SlidingWindowLimiter;
  redis: Redis;
  windowMs: number;
  /** Writes one audit row (its own transaction). */
  audit: (event: AuditEvent) => Promise<void>;
  log: Logger;
  /** Called once per refused denial, for the rate-limited metric. */
  onReject?: () => void;
}

/** A denial about to be audited, and who caused it. */
export interface Denial {
  event: AuditEvent;
  userId: string;
  ip: string;
}

/** Audits an authorization denial, or throws RATE_LIMITED (429 + Retry-After) past the limit. */
export type DenialAudit = (denial: Denial) => Promise<void>;

// Takes the pending count if its stretch began before ARGV[1] (ms), else nothing.
const TAKE_PENDING = `
local since = redis.call('HGET', KEYS[1], 'sinceMs')
if not since or tonumber(since) > tonumber(ARGV[1]) then return nil end
local fields = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
return fields
`;

interface Subject {
  /** `user:<id>` or `ip:<address or /64>`: the limit's key and the summary row's resource. */
  name: string;
  limit: number;
  actor: string;
}

/**
 * Every audit row takes the chain's one lock (infra/audit/audit-log.ts), so unlimited denials let
 * any signed-in user slow every audited request down and grow the log without bound. Denials are
 * counted per user and per address before they are written; past either limit they are refused
 * and counted in Redis, and the count is written as one `authz.denials-limited` row when the
 * window ends (or sooner, by the next denial that is audited again), so none goes unrecorded.
 */
export function createDenialAudit(options: DenialLimitOptions): DenialAudit {
  const pendingKey = (subject: Subject) => `authz-refused:${subject.name}`;

  /**
   * Writes the refused count of `subject` as one row, if its stretch began before `cutoffMs`. The
   * check, read and delete are one script: of the timer and a later denial, one writer wins, and a
   * stretch younger than the window is never cut short (at most one summary per window).
   */
  async function flush(subject: Subject, cutoffMs: number) {
    const pending = (await options.redis.eval(TAKE_PENDING, 1, pendingKey(subject), String(cutoffMs))) as string[] | null;
    if (!pending) return;
    const fields = Object.fromEntries(pending.flatMap((value, i) => (i % 2 === 0 ? [[value, pending[i + 1]!]] : [])));
    await options.audit({
      actor: subject.actor,
      action: 'authz.denials-limited',
      resource: subject.name,
      result: 'refused',
      ip: fields.ip ?? null,
      details: { count: Number(fields.count), windowMs: options.windowMs, since: new Date(Number(fields.sinceMs)).toISOString() },
    });
  }

  function flushLater(subject: Subject) {
    const timer = setTimeout(() => {
      // A tenth of the window's slack for timers and clocks; a later stretch is younger than that.
      flush(subject, Date.now() - 0.9 * options.windowMs)
        .catch((error: unknown) => options.log.error({ err: error, subject: subject.name }, 'writing the denial summary failed'));
    }, options.windowMs);
    timer.unref();
  }

  async function countRefused(subject: Subject, ip: string) {
    const key = pendingKey(subject);
    const [[, count] = []] = (await options.redis
      .multi()
      .hincrby(key, 'count', 1)
      .hsetnx(key, 'ip', ip)
      .hsetnx(key, 'sinceMs', String(Date.now()))
      // A safety net only: the flush deletes it long before.
      .pexpire(key, 10 * options.windowMs + 60_000)
      .exec()) ?? [];
    // The first refusal of a stretch schedules its summary.
    if (count === 1) flushLater(subject);
  }

  return async function auditDenial({ event, userId, ip }) {
    const subjects: Subject[] = [
      { name: `user:${userId}`, limit: DENIALS_PER_USER, actor: `user:${userId}` },
      { name: `ip:${ipRateLimitSubject(ip)}`, limit: DENIALS_PER_IP, actor: 'anonymous' },
    ];
    let refusal: ApiError | undefined;
    try {
      for (const subject of subjects) {
        const result = await options.limiter.hit(`rl:authz-denial:${subject.name}`, { limit: subject.limit, windowMs: options.windowMs });
        if (!result.allowed) {
          await countRefused(subject, ip);
          refusal = rateLimited(result);
          break;
        }
      }
      // Audited again: a stretch whose timer was lost (its process stopped) is written first.
      if (!refusal) for (const subject of subjects) await flush(subject, Date.now() - options.windowMs);
    } catch (error) {
      // Without Redis the limit cannot be counted, and a denial is never left unaudited.
      refusal = undefined;
      options.log.warn({ err: (error as Error).message }, 'denial limiter unavailable; auditing the denial');
    }
    if (refusal) {
      options.onReject?.();
      throw refusal;
    }
    await options.audit(event);
  };
}
