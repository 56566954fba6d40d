export * from './events';
export * from './receipts';
export * from './todo';
