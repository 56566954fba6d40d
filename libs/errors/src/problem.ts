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

export function problemType(code: string): string {
  return `${PROBLEM_TYPE_BASE}${code}`;
}
