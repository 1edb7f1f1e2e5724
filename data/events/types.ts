/**
 * The event feed's vocabulary: the CloudEvents 1.0 envelope every channel carries (the feed
 * today; webhooks and NATS later read the same stored envelope), and the event types.
 * docs/events.md documents each type's data.
 */

/** Every event type the service emits; `alert.<kind>` follows the alert kinds in lower case. */
export const EventType = {
  STOCK_CHANGED: 'stock.changed',
  STOCK_OUT_OF_STOCK: 'stock.out_of_stock',
  STOCK_BACK_IN_STOCK: 'stock.back_in_stock',
  CAMPAIGN_CHANGED: 'campaign.changed',
  CAMPAIGN_SOLD_OUT: 'campaign.sold_out',
  ORDER_HELD: 'order.held',
  ORDER_BACKORDERED: 'order.backordered',
  ORDER_CONFIRMED: 'order.confirmed',
  ORDER_RELEASED: 'order.released',
  ORDER_REFUND_REQUIRED: 'order.refund_required',
  PAYMENT_SETTLED: 'payment.settled',
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

/** An event type a consumer may filter on: one above, or an alert's. */
export const EVENT_TYPE_PATTERN = '^(stock|campaign|order|payment|alert)\\.[a-z_]+$';

/** The `source` of every event this service emits (a URI reference, CloudEvents 1.0). */
export const EVENT_SOURCE = '/stockhold';

/** A CloudEvent in structured JSON mode, as stored once when it is positioned. */
export interface CloudEvent {
  readonly specversion: '1.0';
  /** Fixed when the change committed: the key every consumer dedupes on. */
  readonly id: string;
  readonly source: string;
  readonly type: string;
  /** `<sku>@<warehouse>` for stock events, the campaign id, the order id, the alert's subject. */
  readonly subject: string;
  readonly time: string;
  /** The feed position, zero-padded to 20 digits: ordered as a string and as a number. */
  readonly sequence: string;
  readonly datacontenttype: 'application/json';
  readonly data: Record<string, unknown>;
}

/** One page of the feed. `nextCursor` is where the next page starts (also when this one is empty). */
export interface FeedPage {
  readonly data: CloudEvent[];
  readonly hasMore: boolean;
  readonly nextCursor: string;
}
