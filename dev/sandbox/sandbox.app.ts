import { injectFaults } from './fault-injection.js';
import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { fareRuleFor, flightFor, flightId, flightsFor, offerIdFor, parseOfferId, type Cabin } from './inventory.js';

/**
 * The sandbox flight provider: a stand-in for a real supplier, with offers that
 * expire, seat holds with a TTL, confirmation, cancellation and injectable faults.
 * Its wire format is deliberately its own (snake_case, minor units) so our adapter is real.
 */

export const faultsSchema = z.strictObject({
  latencyMs: z.number().int().min(0).default(0),
  errorRate: z.number().min(0).max(1).default(0), // answered with 503
  timeoutRate: z.number().min(0).max(1).default(0), // never answered in time
  // How long such a call hangs before the provider acts on it anyway (a late success); 120 s unless set.
  timeoutMs: z.number().int().positive().optional(),
  soldOut: z.array(z.string()).default([]), // flight ids, or "*" for everything
  rejectConfirm: z.boolean().default(false), // confirm answers 422
  failRelease: z.boolean().default(false), // release and cancel answer 503
  priceIncreasePercent: z.number().min(0).default(0), // re-pricing shows a higher fare
  holdTtlMs: z.number().int().positive().optional(), // when set, the TTL of new holds instead of options.holdTtlMs
  // The TTL of new holds of these offers only (by the sandbox's offer id), ahead of holdTtlMs.
  holdTtlMsByOffer: z.record(z.string(), z.number().int().positive()).optional(),
  // A misbehaving supplier: it refuses a hold (409) yet grants it this many ms later ("late success").
  lateHoldAfterRefusalMs: z.number().int().positive().optional(),
  // A supplier whose hold disagrees with its own quote: the hold's total is off by this much, or in this currency.
  holdTotalDriftMinor: z.number().int().default(0),
  holdCurrency: z.string().regex(/^[A-Z]{3}$/).optional(),
});
export type Faults = z.infer<typeof faultsSchema>;

export interface SandboxOptions {
  offerTtlMs: number;
  holdTtlMs: number;
  faults?: Partial<Faults>;
  now?: () => number;
}

type HoldState = 'HELD' | 'CONFIRMED' | 'RELEASED' | 'CANCELLED' | 'EXPIRED';
interface Hold {
  hold_id: string;
  reference: string;
  offer_id: string;
  flight_id: string;
  seats: number;
  total_minor: number;
  currency: string;
  state: HoldState;
  expires_at: string;
  confirmation_code: string | null;
  created_at: string;
  /** The ticketed travellers: only the PNR retrieve (GET /v1/holds/:id) shows them. */
  passengers: WirePassenger[] | null;
}

const holdRequest = z.strictObject({
  offer_id: z.string().min(1),
  seats: z.number().int().min(1).max(9),
  reference: z.string().min(1).max(300),
});

// What ticketing needs of each traveller (APIS data): no ticket without a passport.
const passenger = z.strictObject({
  given_name: z.string().min(1).max(100),
  family_name: z.string().min(1).max(100),
  date_of_birth: z.iso.date(),
  passport_number: z.string().regex(/^[A-Za-z0-9]{6,15}$/),
  passport_country: z.string().regex(/^[A-Z]{2}$/),
  nationality: z.string().regex(/^[A-Z]{2}$/),
});
type WirePassenger = z.infer<typeof passenger>;
const confirmRequest = z.strictObject({ passengers: z.array(passenger).min(1).max(9) });

/** A hold as every answer but the PNR retrieve shows it: without the travellers. */
const summary = ({ passengers: _passengers, ...hold }: Hold) => hold;

export function createSandboxApp(options: SandboxOptions) {
  const now = options.now ?? Date.now;
  let faults: Faults = faultsSchema.parse(options.faults ?? {});
  const holds = new Map<string, Hold>();
  const holdByReference = new Map<string, string>();
  const stats = { requests: 0, injectedErrors: 0, injectedTimeouts: 0 };

  const seatsTaken = (id: string) =>
    [...holds.values()]
      .filter((h) => h.flight_id === id && (h.state === 'CONFIRMED' || (h.state === 'HELD' && !expired(h))))
      .reduce((sum, h) => sum + h.seats, 0);
  const expired = (h: Hold) => h.state === 'HELD' && Date.parse(h.expires_at) <= now();
  const settle = (h: Hold): Hold => {
    if (expired(h)) h.state = 'EXPIRED';
    return h;
  };
  const soldOut = (id: string) => faults.soldOut.includes('*') || faults.soldOut.includes(id);
  const fare = (minor: number) => Math.round(minor * (1 + faults.priceIncreasePercent / 100));
  const problem = (c: Context, status: 404 | 409 | 410 | 422 | 400, error: string) => c.json({ error }, status);

  const app = new Hono();

  app.get('/healthz', (c) => c.json({ ok: true }));

  // Control plane for tests and the chaos suite: not part of the provider's API.
  app.get('/_control/faults', (c) => c.json(faults));
  app.put('/_control/faults', async (c) => {
    const parsed = faultsSchema.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return problem(c, 400, 'invalid faults');
    faults = parsed.data;
    return c.json(faults);
  });
  app.get('/_control/stats', (c) => c.json(stats));

  app.use('/v1/*', injectFaults(() => faults, stats, (c) => c.json({ error: 'injected fault' }, 503)));

  app.get('/v1/flights', (c) => {
    const q = c.req.query();
    const cabin = (q.cabin ?? 'economy') as Cabin;
    const seats = Number(q.seats ?? '1');
    if (!/^[A-Z]{3}$/.test(q.from ?? '') || !/^[A-Z]{3}$/.test(q.to ?? '') || !/^\d{4}-\d{2}-\d{2}$/.test(q.date ?? '')) {
      return problem(c, 400, 'from, to and date are required');
    }
    const issuedAt = now();
    const flights = flightsFor(q.from!, q.to!, q.date!, cabin).filter(
      (f) => !soldOut(flightId(f)) && f.seats - seatsTaken(flightId(f)) >= seats,
    );
    return c.json({
      data: flights.map((f) => ({
        offer_id: offerIdFor(f, issuedAt),
        flight_number: f.flightNumber,
        from: f.origin,
        to: f.destination,
        departs_at: f.departsAt,
        arrives_at: f.arrivesAt,
        cabin: f.cabin,
        fare_minor: fare(f.fareMinor) * seats,
        currency: f.currency,
        seats_left: f.seats - seatsTaken(flightId(f)),
        fare_rule: fareRuleFor(f),
        valid_until: new Date(issuedAt + options.offerTtlMs).toISOString(),
      })),
    });
  });

  app.get('/v1/offers/:offerId', (c) => {
    const parsed = parseOfferId(c.req.param('offerId'));
    if (!parsed) return problem(c, 404, 'offer not found');
    if (parsed.issuedAtMs + options.offerTtlMs <= now()) return problem(c, 410, 'offer expired');
    const flight = flightFor(parsed.flight);
    const left = flight.seats - seatsTaken(flightId(flight));
    return c.json({
      offer_id: c.req.param('offerId'),
      fare_minor_per_seat: fare(flight.fareMinor),
      currency: flight.currency,
      seats_left: soldOut(flightId(flight)) ? 0 : left,
      fare_rule: fareRuleFor(flight),
      valid_until: new Date(parsed.issuedAtMs + options.offerTtlMs).toISOString(),
    });
  });

  app.post('/v1/holds', async (c) => {
    const body = holdRequest.safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) return problem(c, 400, 'offer_id, seats and reference are required');
    // The reference is the caller's idempotency key: a retried hold returns the first one.
    const existing = holdByReference.get(body.data.reference);
    if (existing) return c.json(summary(settle(holds.get(existing)!)), 200);
    const parsed = parseOfferId(body.data.offer_id);
    if (!parsed) return problem(c, 404, 'offer not found');
    if (parsed.issuedAtMs + options.offerTtlMs <= now()) return problem(c, 410, 'offer expired');
    const flight = flightFor(parsed.flight);
    const id = flightId(flight);
    if (soldOut(id) || flight.seats - seatsTaken(id) < body.data.seats) return problem(c, 409, 'sold out');
    const grant = () => {
      const hold: Hold = {
        hold_id: `H-${randomUUID()}`,
        reference: body.data.reference,
        offer_id: body.data.offer_id,
        flight_id: id,
        seats: body.data.seats,
        total_minor: fare(flight.fareMinor) * body.data.seats + faults.holdTotalDriftMinor,
        currency: faults.holdCurrency ?? flight.currency,
        state: 'HELD',
        expires_at: new Date(now() + (faults.holdTtlMsByOffer?.[body.data.offer_id] ?? faults.holdTtlMs ?? options.holdTtlMs)).toISOString(),
        confirmation_code: null,
        created_at: new Date(now()).toISOString(),
        passengers: null,
      };
      holds.set(hold.hold_id, hold);
      holdByReference.set(hold.reference, hold.hold_id);
      return hold;
    };
    if (faults.lateHoldAfterRefusalMs) {
      setTimeout(grant, faults.lateHoldAfterRefusalMs).unref();
      return problem(c, 409, 'sold out');
    }
    return c.json(summary(grant()), 201);
  });

  app.get('/v1/holds', (c) => {
    const reference = c.req.query('reference');
    const list = [...holds.values()].filter((h) => !reference || h.reference === reference).map(settle);
    return c.json({ data: list.map(summary) });
  });

  // The PNR retrieve: the one answer that carries the travellers, as a real supplier's does.
  app.get('/v1/holds/:holdId', (c) => {
    const hold = holds.get(c.req.param('holdId'));
    return hold ? c.json(settle(hold)) : problem(c, 404, 'hold not found');
  });

  // Ticketing needs every traveller of the hold; refusals name the rule broken, never a traveller's data.
  app.post('/v1/holds/:holdId/confirm', async (c) => {
    const hold = holds.get(c.req.param('holdId'));
    if (!hold) return problem(c, 404, 'hold not found');
    const body = confirmRequest.safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) return problem(c, 422, 'passengers with names, birth dates and passports are required');
    if (body.data.passengers.length !== hold.seats) return problem(c, 422, `the hold is for ${hold.seats} passengers`);
    settle(hold);
    if (hold.state === 'CONFIRMED') return c.json(summary(hold));
    if (hold.state === 'EXPIRED') return problem(c, 410, 'hold expired');
    if (hold.state !== 'HELD') return problem(c, 409, `hold is ${hold.state.toLowerCase()}`);
    if (faults.rejectConfirm) return problem(c, 422, 'ticketing rejected');
    hold.state = 'CONFIRMED';
    hold.confirmation_code = `PNR${hold.hold_id.slice(2, 8).toUpperCase()}`;
    hold.passengers = body.data.passengers;
    return c.json(summary(hold));
  });

  // Release a hold that was never confirmed; idempotent.
  app.post('/v1/holds/:holdId/release', (c) => {
    if (faults.failRelease) return c.json({ error: 'injected fault' }, 503);
    const hold = holds.get(c.req.param('holdId'));
    if (!hold) return problem(c, 404, 'hold not found');
    settle(hold);
    if (hold.state === 'HELD') hold.state = 'RELEASED';
    if (hold.state === 'CONFIRMED') return problem(c, 409, 'hold is confirmed; cancel it instead');
    return c.json(summary(hold));
  });

  // Cancel a confirmed booking; idempotent.
  app.post('/v1/holds/:holdId/cancel', (c) => {
    if (faults.failRelease) return c.json({ error: 'injected fault' }, 503);
    const hold = holds.get(c.req.param('holdId'));
    if (!hold) return problem(c, 404, 'hold not found');
    settle(hold);
    if (hold.state === 'CONFIRMED' || hold.state === 'HELD') hold.state = 'CANCELLED';
    return c.json(summary(hold));
  });

  return app;
}

