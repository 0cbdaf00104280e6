import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** What operators filter bookings by in the Web UI and `temporal workflow list --query`. No PII. */
export const BookingStatusAttribute = defineSearchAttributeKey('BookingStatus', SearchAttributeType.KEYWORD);
export const PaymentStateAttribute = defineSearchAttributeKey('PaymentState', SearchAttributeType.KEYWORD);
export const ProvidersAttribute = defineSearchAttributeKey('Providers', SearchAttributeType.KEYWORD_LIST);
export const HoldExpiresAtAttribute = defineSearchAttributeKey('HoldExpiresAt', SearchAttributeType.DATETIME);
export const TotalAmountMinorAttribute = defineSearchAttributeKey('TotalAmountMinor', SearchAttributeType.INT);
export const CurrencyAttribute = defineSearchAttributeKey('Currency', SearchAttributeType.KEYWORD);

export const BOOKING_SEARCH_ATTRIBUTES = [
  BookingStatusAttribute,
  PaymentStateAttribute,
  ProvidersAttribute,
  HoldExpiresAtAttribute,
  TotalAmountMinorAttribute,
  CurrencyAttribute,
] as const;
