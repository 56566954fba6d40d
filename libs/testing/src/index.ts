export * from './apps';
export * from './namespace';
export * from './ports';
export * from './servers';
export * from './wait';
export * from './env';
export * from './metrics';
