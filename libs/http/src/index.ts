export * from './bootstrap';
export * from './core.module';
export * from './create-app';
export * from './security-headers';
export * from './basic-auth';
