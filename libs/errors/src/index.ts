export * from './domain.error';
export * from './problem';
export * from './problem-details.filter';
export * from './validation.pipe';
export * from './problem.dto';
