import type { FieldProblem } from './domain.error';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_BASE = 'https://downstream.dev/problems/';

/** RFC 9457 problem details, as every service returns them. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  requestId?: string;
  errors?: FieldProblem[];
  [extension: string]: unknown;
}

/**
 * The path of a request URL without its query string, which may carry secrets (`?access_token=`):
 * what problem `instance` fields and log lines show.
 */
export function urlPath(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

export function problemType(code: string): string {
  return `${PROBLEM_TYPE_BASE}${code}`;
}
