import { describe, expect, it } from 'vitest';
import { jsonCaller } from '../../test/support/json-caller.js';
import { createSandboxApp } from './sandbox.app.js';
import { flightFor } from './inventory.js';

const ada = { given_name: 'Ada', family_name: 'Lovelace', date_of_birth: '1985-12-10', passport_number: 'X1234567', passport_country: 'GB', nationality: 'GB' };
const manifest = (...passengers: object[]) => ({ passengers: passengers.length > 0 ? passengers : [ada] });

function sandbox(faults = {}) {
  let now = Date.parse('2026-11-29T10:00:00Z');
  const app = createSandboxApp({ offerTtlMs: 60_000, holdTtlMs: 120_000, faults, now: () => now });
  const call = jsonCaller(app);
  const offers = async () => (await call('GET', '/v1/flights?from=JFK&to=LHR&date=2027-01-10&seats=1')).body.data as Array<Record<string, string | number>>;
  return { call, offers, advance: (ms: number) => (now += ms) };
}

describe('sandbox provider', () => {
  it('shows the same flights and fares for the same query', async () => {
    const a = await sandbox().offers();
    const b = await sandbox().offers();
    expect(a.map((o) => [o.flight_number, o.fare_minor])).toEqual(b.map((o) => [o.flight_number, o.fare_minor]));
    expect(a).toHaveLength(3);
  });

  it('expires offers after their TTL', async () => {
    const s = sandbox();
    const [offer] = await s.offers();
    expect((await s.call('GET', `/v1/offers/${offer!.offer_id}`)).status).toBe(200);
    s.advance(60_001);
    expect((await s.call('GET', `/v1/offers/${offer!.offer_id}`)).status).toBe(410);
    expect((await s.call('POST', '/v1/holds', { offer_id: offer!.offer_id, seats: 1, reference: 'r1' })).status).toBe(410);
  });

  it('returns the same hold for the same reference, and lets it lapse after its TTL', async () => {
    const s = sandbox();
    const [offer] = await s.offers();
    const first = await s.call('POST', '/v1/holds', { offer_id: offer!.offer_id, seats: 1, reference: 'booking-1:hold' });
    const again = await s.call('POST', '/v1/holds', { offer_id: offer!.offer_id, seats: 1, reference: 'booking-1:hold' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.hold_id).toBe(first.body.hold_id);
    s.advance(120_001);
    expect((await s.call('GET', `/v1/holds/${first.body.hold_id}`)).body.state).toBe('EXPIRED');
    expect((await s.call('POST', `/v1/holds/${first.body.hold_id}/confirm`, manifest())).status).toBe(410);
  });

  it('gives the holds of the offers named in holdTtlMsByOffer their own TTL, and every other hold the usual one', async () => {
    const probe = await sandbox().offers();
    const s = sandbox({ holdTtlMsByOffer: { [String(probe[0]!.offer_id)]: 5_000 } });
    const [short, usual] = await s.offers();
    const a = await s.call('POST', '/v1/holds', { offer_id: short!.offer_id, seats: 1, reference: 'short' });
    const b = await s.call('POST', '/v1/holds', { offer_id: usual!.offer_id, seats: 1, reference: 'usual' });
    s.advance(5_001);
    expect((await s.call('GET', `/v1/holds/${a.body.hold_id}`)).body.state).toBe('EXPIRED');
    expect((await s.call('GET', `/v1/holds/${b.body.hold_id}`)).body.state).toBe('HELD');
  });

  it('sells out when holds take every seat, and frees seats on release', async () => {
    const s = sandbox();
    const [offer] = await s.offers();
    const seats = flightFor({ origin: 'JFK', destination: 'LHR', date: '2027-01-10', cabin: 'economy', number: 0 }).seats;
    const hold = await s.call('POST', '/v1/holds', { offer_id: offer!.offer_id, seats, reference: 'all' });
    expect(hold.status).toBe(201);
    expect((await s.call('POST', '/v1/holds', { offer_id: offer!.offer_id, seats: 1, reference: 'one-more' })).status).toBe(409);
    expect((await s.call('POST', `/v1/holds/${hold.body.hold_id}/release`)).body.state).toBe('RELEASED');
    expect((await s.call('POST', '/v1/holds', { offer_id: offer!.offer_id, seats: 1, reference: 'one-more' })).status).toBe(201);
  });

  it('confirms a hold once; a confirmed hold is cancelled, not released', async () => {
    const s = sandbox();
    const [offer] = await s.offers();
    const hold = await s.call('POST', '/v1/holds', { offer_id: offer!.offer_id, seats: 1, reference: 'c' });
    const confirmed = await s.call('POST', `/v1/holds/${hold.body.hold_id}/confirm`, manifest());
    expect(confirmed.body.state).toBe('CONFIRMED');
    expect((await s.call('POST', `/v1/holds/${hold.body.hold_id}/confirm`, manifest())).body.confirmation_code).toBe(confirmed.body.confirmation_code);
    expect((await s.call('POST', `/v1/holds/${hold.body.hold_id}/release`)).status).toBe(409);
    expect((await s.call('POST', `/v1/holds/${hold.body.hold_id}/cancel`)).body.state).toBe('CANCELLED');
  });

  it('injects the configured faults', async () => {
    expect((await sandbox({ errorRate: 1 }).call('GET', '/v1/flights?from=JFK&to=LHR&date=2027-01-10')).status).toBe(503);
    expect(await sandbox({ soldOut: ['*'] }).offers()).toEqual([]);
    const s = sandbox({ rejectConfirm: true });
    const [offer] = await s.offers();
    const hold = await s.call('POST', '/v1/holds', { offer_id: offer!.offer_id, seats: 1, reference: 'x' });
    expect((await s.call('POST', `/v1/holds/${hold.body.hold_id}/confirm`, manifest())).status).toBe(422);
  });

  it('tickets only with a passport for every seat, and shows the travellers in the PNR retrieve alone', async () => {
    const s = sandbox();
    const [offer] = await s.offers();
    const hold = await s.call('POST', '/v1/holds', { offer_id: offer!.offer_id, seats: 2, reference: 'pnr' });
    const confirm = (body?: object) => s.call('POST', `/v1/holds/${hold.body.hold_id}/confirm`, body);
    const grace = { ...ada, given_name: 'Grace', family_name: 'Hopper', passport_number: 'Y7654321' };
    const { passport_number: _passport, ...withoutPassport } = grace;
    for (const refused of [undefined, { passengers: [] }, manifest(ada), manifest(ada, grace, ada), manifest(ada, withoutPassport), manifest(ada, { ...grace, passport_number: '' })]) {
      const answer = await confirm(refused);
      expect(answer.status, JSON.stringify(refused)).toBe(422);
      // A refusal names the rule, never a traveller's data.
      expect(JSON.stringify(answer.body)).not.toMatch(/X1234567|Y7654321|1985-12-10|Lovelace/);
    }
    expect((await s.call('GET', `/v1/holds/${hold.body.hold_id}`)).body.state).toBe('HELD');

    const confirmed = await confirm(manifest(ada, grace));
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.passengers).toBeUndefined();
    expect((await s.call('GET', `/v1/holds?reference=pnr`)).body.data[0].passengers).toBeUndefined();
    expect((await s.call('GET', `/v1/holds/${hold.body.hold_id}`)).body.passengers).toEqual([ada, grace]);
  });
});
