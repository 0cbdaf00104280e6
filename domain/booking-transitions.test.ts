import { describe, expect, it } from 'vitest';
import { BOOKING_STATUSES, TERMINAL_STATUSES } from './booking-status.js';
import { BOOKING_ITEM_STATES, BOOKING_ITEM_TRANSITIONS, BOOKING_TRANSITIONS, PAYMENT_STATES, PAYMENT_TRANSITIONS } from './booking-transitions.js';
import type { StateMachine } from './state-machine.js';

function reachableFrom<S extends string>(machine: StateMachine<S>, start: S): Set<S> {
  const seen = new Set<S>([start]);
  for (const queue = [start]; queue.length > 0; ) {
    for (const next of machine.successors[queue.shift()!]) {
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(next);
    }
  }
  return seen;
}

describe.each([
  ['booking', BOOKING_TRANSITIONS, BOOKING_STATUSES, 'PENDING'],
  ['booking item', BOOKING_ITEM_TRANSITIONS, BOOKING_ITEM_STATES, 'PENDING'],
  ['payment', PAYMENT_TRANSITIONS, PAYMENT_STATES, 'CREATED'],
] as const)('the %s state machine', (_what, machine: StateMachine<string>, states: readonly string[], start: string) => {
  it('names every state, and only states', () => {
    expect([...machine.states].sort()).toEqual([...states].sort());
    for (const from of states) for (const to of machine.successors[from]!) expect(states).toContain(to);
  });

  it('answers every pair (from, to) as the table says, and the stores filter on the same answer', () => {
    for (const from of states) {
      for (const to of states) {
        const allowed = machine.successors[from]!.includes(to);
        expect(machine.allows(from, to), `${from} → ${to}`).toBe(allowed);
        expect(machine.predecessorsOf(to).includes(from), `${from} among the predecessors of ${to}`).toBe(allowed);
      }
    }
  });

  it('never moves a state to itself (a repeat is a no-op, not a move), and refuses what it does not know', () => {
    for (const state of states) expect(machine.allows(state, state)).toBe(false);
    expect(machine.allows('UNKNOWN', states[0]!)).toBe(false);
    expect(machine.allows(states[0]!, 'UNKNOWN')).toBe(false);
  });

  it(`reaches every state from ${start}`, () => {
    expect([...reachableFrom(machine, start)].sort()).toEqual([...states].sort());
  });
});

describe('terminal states', () => {
  it('a terminal booking moves only as the cancellation workflow (CONFIRMED → CANCELLED → REFUNDED, or stuck) and an operator\'s full refund move it', () => {
    const moves = [...TERMINAL_STATUSES].flatMap((from) => BOOKING_TRANSITIONS.successors[from].map((to) => `${from} → ${to}`));
    expect(moves.sort()).toEqual([
      'CANCELLED → NEEDS_ATTENTION', 'CANCELLED → REFUNDED', 'CONFIRMED → CANCELLED', 'CONFIRMED → NEEDS_ATTENTION', 'CONFIRMED → REFUNDED',
    ]);
  });

  it('the sweep and a late saga cannot both act: FAILED goes nowhere, and the sweep fails only PENDING', () => {
    expect(BOOKING_TRANSITIONS.successors.FAILED).toEqual([]);
    expect(BOOKING_TRANSITIONS.allows('STARTED', 'FAILED')).toBe(true); // the saga's own failure
    expect(BOOKING_TRANSITIONS.allows('FAILED', 'STARTED')).toBe(false);
    expect(BOOKING_TRANSITIONS.allows('FAILED', 'HELD')).toBe(false);
  });

  it('a released or cancelled item is never held or ticketed again; a voided or refunded payment never moves', () => {
    for (const to of ['HELD', 'CONFIRMED']) {
      expect(BOOKING_ITEM_TRANSITIONS.allows('RELEASED', to)).toBe(false);
      expect(BOOKING_ITEM_TRANSITIONS.allows('CANCELLED', to)).toBe(false);
    }
    expect(PAYMENT_TRANSITIONS.successors.VOIDED).toEqual([]);
    expect(PAYMENT_TRANSITIONS.successors.REFUNDED).toEqual([]);
    expect(PAYMENT_TRANSITIONS.allows('CAPTURED', 'AUTHORIZED')).toBe(false);
  });
});
