import { makeCounterProvider } from '@willsoto/nestjs-prometheus';
import { flushBuffered } from '@app/metrics';

export const VERIFY_RESULTS_METRIC = 'auth_verify_total';
export const TOKENS_ISSUED_METRIC = 'auth_tokens_issued_total';
export const CLIENT_AUTH_FAILURES_METRIC = 'auth_client_auth_failures_total';

export const AUTH_METRICS = [
  makeCounterProvider({
    name: VERIFY_RESULTS_METRIC,
    help: 'Results of /auth/verify: ok, or the refusal reason (missing, malformed, signature, algorithm, expired, not_yet_valid, issuer, audience, claims, revoked)',
    labelNames: ['result'],
    // VerifyEndpoint counts in a BufferedCounter: flushed before each scrape.
    collect: flushBuffered,
  }),
  makeCounterProvider({ name: TOKENS_ISSUED_METRIC, help: 'Tokens issued by POST /auth/token' }),
  makeCounterProvider({
    name: CLIENT_AUTH_FAILURES_METRIC,
    help: 'Failed client authentications on /auth/token and /auth/revoke (unauthorized, rate_limited)',
    labelNames: ['result'],
  }),
];
