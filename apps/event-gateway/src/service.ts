import type { ServiceDefinition } from '@app/http';
import { AppModule } from './app.module';
import { type GatewayConfig, loadGatewayConfig } from './config/gateway.config';

export const eventGateway: ServiceDefinition<GatewayConfig> = {
  name: 'event-gateway',
  title: 'Downstream event-gateway',
  description: 'Socket.IO gateway and the internal Event API that pushes events to exactly the user they concern.',
  loadConfig: loadGatewayConfig,
  module: (config) => AppModule.register(config),
};
