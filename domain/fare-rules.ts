/** How much of an item's price comes back when a confirmed booking is cancelled. */
export const FARE_RULES = ['FLEX', 'STANDARD', 'SAVER'] as const;
export type FareRule = (typeof FARE_RULES)[number];
/** A booking item's rule until the saga's repricing reads the provider's (the column's default). */
export const DEFAULT_FARE_RULE: FareRule = 'SAVER';

const REFUND_SHARE: Record<FareRule, number> = { FLEX: 1, STANDARD: 0.5, SAVER: 0 };

export function isFareRule(value: unknown): value is FareRule {
  return typeof value === 'string' && (FARE_RULES as readonly string[]).includes(value);
}

/** The refund for one item, in minor units, rounded down so we never refund more than the rule says. */
export function refundMinor(rule: FareRule, priceMinor: number): number {
  return Math.floor(priceMinor * REFUND_SHARE[rule]);
}
