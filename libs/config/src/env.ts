import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';

/** Thrown when the environment does not describe a valid configuration. Its message is one line. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`invalid configuration: ${variable} ${reason}`);
    this.name = 'ConfigError';
  }
}

function firstFailure(errors: ValidationError[]): { property: string; reason: string } | undefined {
  for (const error of errors) {
    const constraints = Object.values(error.constraints ?? {});
    if (constraints.length > 0) {
      // class-validator messages start with the property name; keep only the reason.
      const reason = constraints[0].startsWith(error.property)
        ? constraints[0].slice(error.property.length).trim()
        : constraints[0];
      return { property: error.property, reason };
    }
    const nested = firstFailure(error.children ?? []);
    if (nested) {
      return nested;
    }
  }
  return undefined;
}

/**
 * Validates `process.env`-like input against a class-validator class. Values are never echoed, so a
 * secret that fails validation does not end up in a log line.
 */
export function validateEnv<T extends object>(cls: new () => T, env: NodeJS.ProcessEnv): T {
  const cleaned: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') {
      cleaned[key] = value;
    }
  }
  const instance = plainToInstance(cls, cleaned, { enableImplicitConversion: true, exposeDefaultValues: true });
  const errors = validateSync(instance, { skipMissingProperties: false, whitelist: false });
  const failure = firstFailure(errors);
  if (failure) {
    throw new ConfigError(failure.property, failure.reason);
  }
  return instance;
}
