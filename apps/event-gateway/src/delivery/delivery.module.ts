import { Module } from '@nestjs/common';
import { AdminUiModule } from '../admin/admin-ui.module';
import { InboxModule } from '../inbox/inbox.module';
import { RegistryModule } from '../registry/registry.module';
import { DeliveryService } from './delivery.service';
import { DownstreamGateway } from './downstream.gateway';
import { SocketAuthService } from './socket-auth.service';

@Module({
  imports: [InboxModule, RegistryModule, AdminUiModule],
  providers: [DeliveryService, SocketAuthService, DownstreamGateway],
  exports: [DeliveryService],
})
export class DeliveryModule {}
