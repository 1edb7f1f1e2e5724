/**
 * The event outbox's one owner: positioning (assign.ts), the pull feed (feed.ts), the worker's
 * relay (relay.ts), push channels' cursors and the backlog (channels.ts), retention
 * (retention.ts), reconciliation's chain check (versions.ts), webhook subscriptions
 * (subscriptions.ts) and what they are sent (deliveries.ts). The events themselves are
 * written by triggers (prisma/migrations/20261208200000_event_outbox): no writer calls this.
 */
export { ASSIGN_BATCH, assignAll, assignPositions } from './assign';
export { readFeed, type FeedQuery } from './feed';
export { EventRelay, type EventRelayOptions } from './relay';
export {
  advanceCursor,
  channelCursor,
  eventBacklog,
  eventBytes,
  eventsAfter,
  type ChannelEvent,
  type EventBacklog,
} from './channels';
export {
  deleteAllExpiredEvents,
  deleteExpiredEvents,
  startEventRetention,
  RETENTION_BATCH,
  type RetentionOptions,
} from './retention';
export { EVENT_SOURCE, EVENT_TYPE_PATTERN, EventType, type CloudEvent, type FeedPage } from './types';
export * from './subscriptions';
export * from './deliveries';
