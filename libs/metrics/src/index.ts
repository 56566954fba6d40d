export * from './buffered-metrics';
export * from './http-metrics.service';
export * from './metrics.module';
