import { Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/delivery.module';
import { InboxModule } from '../inbox/inbox.module';
import { RegistryModule } from '../registry/registry.module';
import { EventsController } from './events.controller';
import { EventsFastPath } from './events.fast-path';
import { EventsService } from './events.service';

@Module({
  imports: [InboxModule, RegistryModule, DeliveryModule],
  controllers: [EventsController],
  providers: [EventsService, EventsFastPath],
})
export class EventsModule {}
