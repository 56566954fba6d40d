import type { Provider } from '@nestjs/common';
import { makeCounterProvider, makeGaugeProvider, makeHistogramProvider } from '@willsoto/nestjs-prometheus';

export const METRIC_CONNECTED_SOCKETS = 'gateway_connected_sockets';
export const METRIC_EVENTS_STORED = 'gateway_events_stored_total';
export const METRIC_EVENTS_EMITTED = 'gateway_events_emitted_total';
export const METRIC_EVENTS_REPLAYED = 'gateway_events_replayed_total';
export const METRIC_EVENTS_RETRIED = 'gateway_events_retried_total';
export const METRIC_EVENTS_ACKED = 'gateway_events_acked_total';
export const METRIC_EVENTS_EXPIRED = 'gateway_events_expired_total';
export const METRIC_DELIVERY_LATENCY = 'gateway_delivery_latency_seconds';

/** The gateway's own Prometheus metrics (the HTTP latency histogram comes from @app/metrics). */
export const gatewayMetricProviders: Provider[] = [
  makeGaugeProvider({
    name: METRIC_CONNECTED_SOCKETS,
    help: 'Sockets connected to this replica (default namespace)',
  }),
  makeCounterProvider({
    name: METRIC_EVENTS_STORED,
    help: 'Events stored in a user inbox (duplicates excluded)',
  }),
  makeCounterProvider({
    name: METRIC_EVENTS_EMITTED,
    help: 'Events emitted to sockets by this replica, by kind (user, broadcast)',
    labelNames: ['kind'],
  }),
  makeCounterProvider({
    name: METRIC_EVENTS_REPLAYED,
    help: 'Events emitted that were already pending when the socket connected',
  }),
  makeCounterProvider({
    name: METRIC_EVENTS_RETRIED,
    help: 'Acknowledgement timeouts after which the event was sent again on the same socket',
  }),
  makeCounterProvider({
    name: METRIC_EVENTS_ACKED,
    help: 'Events acknowledged by a client and removed from the inbox',
  }),
  makeCounterProvider({
    name: METRIC_EVENTS_EXPIRED,
    help: 'Events dropped unacknowledged (retention or inbox limit)',
  }),
  makeHistogramProvider({
    name: METRIC_DELIVERY_LATENCY,
    help: 'Time from event creation to its acknowledgement by a client, in seconds',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
  }),
];
