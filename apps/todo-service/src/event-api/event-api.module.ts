import { Module } from '@nestjs/common';
import { EventApiClient } from './event-api.client';

@Module({
  providers: [EventApiClient],
  exports: [EventApiClient],
})
export class EventApiModule {}
