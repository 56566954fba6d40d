import { ConfigService } from '@nestjs/config';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ServiceDefinition } from '@app/http';
import { RedisService } from '@app/redis';
import { registerAdminUi } from './admin/admin-ui.static';
import { AppModule } from './app.module';
import { type GatewayConfig, loadGatewayConfig } from './config/gateway.config';
import { GatewayIoAdapter } from './socket/gateway-io.adapter';

/** Body limit of the Event API: a todo (≤ 1 MiB) plus the event envelope. */
export const EVENT_API_BODY_LIMIT = 2 * 1024 * 1024;

export const eventGateway: ServiceDefinition<GatewayConfig> = {
  name: 'event-gateway',
  title: 'Downstream event-gateway',
  description:
    'Socket.IO gateway and the internal Event API that pushes events to exactly the user they concern.',
  loadConfig: loadGatewayConfig,
  module: (config) => AppModule.register(config),
  bodyLimit: EVENT_API_BODY_LIMIT,
  configure: async (app: NestFastifyApplication) => {
    const config = app.get<ConfigService<GatewayConfig, true>>(ConfigService);
    app.useWebSocketAdapter(
      new GatewayIoAdapter(app, app.get(RedisService), config.getOrThrow('gateway', { infer: true })),
    );
    await registerAdminUi(app);
  },
};
